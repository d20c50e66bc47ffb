// The headless Chromium the browser tests drive (Debian's package; browsers cannot be
// downloaded), and where their screenshots go.

import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CONSOLE_URL = required('HOOKFLOW_E2E_CONSOLE_URL');
export const INGRESS_URL = required('HOOKFLOW_E2E_INGRESS_URL');
export const ADMIN_TOKEN = required('HOOKFLOW_E2E_ADMIN_TOKEN');

const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through scripts/test (phase console)`);
  return value;
}

export async function launch(): Promise<{ browser: Browser; context: BrowserContext; page: Page }> {
  const browser = await chromium.launch({
    executablePath: process.env.HOOKFLOW_E2E_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  // A laptop screen.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: CONSOLE_URL });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { browser, context, page };
}

/** Saves what a laptop screen shows (`fullPage`: the whole page) as screenshots/<name>.png. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage });
}

/** Retries `attempt` until it returns a value or `ms` passed (ingress learns of new workflows within a second). */
export async function eventually<T>(attempt: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Signs in through the sign-in screen and waits for the workflows list. */
export async function signIn(page: Page): Promise<void> {
  await page.goto(CONSOLE_URL);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByLabel('Admin token').press('Enter');
  await page.getByRole('heading', { name: 'Workflows' }).waitFor();
}

/** Calls the admin API the way a script would, failing the test on an error answer. */
export async function adminApi<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${CONSOLE_URL}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? null : await response.json()) as T;
}

/** Calls a webhook until ingress knows the workflow (it answers 404 before). */
export async function callWebhook(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  return eventually(async () => {
    const answer = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    if (answer.status === 404) return undefined;
    const text = await answer.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a text answer stays text
    }
    return { status: answer.status, body: parsed, headers: answer.headers };
  });
}
