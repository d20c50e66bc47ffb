// The variables page against the real services: plain variables and secrets, a secret's
// value never in the page (not in the DOM, not in an input, not after a reload), and the
// $env variables offered by the node pickers and read by a running workflow.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONSOLE_URL, adminApi, callWebhook, launch, screenshot, signIn } from './browser';

let browser: Browser;
let page: Page;

const FIRST_SECRET = 'tok-first-7f3a9c';
const SECOND_SECRET = 'tok-second-2b81de';

beforeAll(async () => {
  ({ browser, page } = await launch());
  await signIn(page);
});

afterAll(async () => {
  await browser?.close();
});

/** Everything the page holds: its markup, every field's current value, and the browser storage. */
async function everythingShown(): Promise<string> {
  const markup = await page.content();
  const values = await page.$$eval('input, textarea, select', (fields) => fields.map((f) => (f as HTMLInputElement).value));
  const storage = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  return [markup, ...values, storage].join('\n');
}

async function expectNoSecret(): Promise<void> {
  const shown = await everythingShown();
  expect(shown).not.toContain(FIRST_SECRET);
  expect(shown).not.toContain(SECOND_SECRET);
}

const row = (name: string) => page.getByRole('row').filter({ has: page.getByText(name, { exact: true }) });

describe('variables and secrets', () => {
  it('creates a plain variable and a secret', async () => {
    await page.getByRole('link', { name: 'Variables', exact: true }).click();
    await page.getByRole('heading', { name: 'Variables', exact: true }).waitFor();
    await page.getByText('No variables yet').waitFor();

    await page.getByRole('button', { name: 'New variable' }).click();
    // A name config-api would refuse is refused here first, in words.
    await page.getByLabel('Name', { exact: true }).fill('1st-token');
    await page.getByRole('button', { name: 'Save variable' }).click();
    await page.getByText('A name starts with a letter or _').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('GREETING');
    await page.getByLabel('Value', { exact: true }).fill('hello');
    await page.getByLabel('Value', { exact: true }).press('Enter');
    await page.getByRole('status').filter({ hasText: 'Created GREETING.' }).waitFor();
    await row('GREETING').getByText('hello').waitFor();

    await page.getByRole('button', { name: 'New variable' }).click();
    await page.getByLabel('Name', { exact: true }).fill('SHOP_TOKEN');
    await page.getByLabel('Secret').check();
    // A secret is typed into a password field.
    expect(await page.getByLabel('Value', { exact: true }).getAttribute('type')).toBe('password');
    await page.getByLabel('Value', { exact: true }).fill(FIRST_SECRET);
    await page.getByRole('button', { name: 'Save variable' }).click();
    await page.getByRole('status').filter({ hasText: 'Created SHOP_TOKEN (secret).' }).waitFor();
    await row('SHOP_TOKEN').getByText('secret, hidden').waitFor();
    await expectNoSecret();

    // A name taken is refused by config-api, and said in words.
    await page.getByRole('button', { name: 'New variable' }).click();
    await page.getByLabel('Name', { exact: true }).fill('GREETING');
    await page.getByLabel('Value', { exact: true }).fill('again');
    await page.getByRole('button', { name: 'Save variable' }).click();
    await page.getByRole('alert').filter({ hasText: /GREETING|exists|taken/i }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();

    const stored = await adminApi<{ value: string; secret: boolean }>('/api/variables/SHOP_TOKEN');
    expect(stored).toMatchObject({ value: '********', secret: true });
  });

  it('edits the secret without ever showing its value, before or after a reload', async () => {
    await page.getByRole('button', { name: 'Edit SHOP_TOKEN' }).click();
    const value = page.getByLabel('New value');
    expect(await value.inputValue()).toBe('');
    expect(await value.getAttribute('type')).toBe('password');
    await expectNoSecret();
    // Saving without a new value is refused: the stored one cannot be kept through the form.
    await page.getByRole('button', { name: 'Save variable' }).click();
    await page.getByText('type the new value').waitFor();
    await value.fill(SECOND_SECRET);
    await screenshot(page, '11-variables');
    await page.getByRole('button', { name: 'Save variable' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved SHOP_TOKEN (secret).' }).waitFor();
    expect(await page.getByLabel('New value').count()).toBe(0);
    await expectNoSecret();

    await page.reload();
    await row('SHOP_TOKEN').getByText('secret, hidden').waitFor();
    await expectNoSecret();
    await page.getByRole('button', { name: 'Edit SHOP_TOKEN' }).click();
    expect(await page.getByLabel('New value').inputValue()).toBe('');
    await expectNoSecret();
    // Escape closes the form and gives the focus back to its button.
    await page.getByLabel('New value').press('Escape');
    expect(await page.getByLabel('New value').count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Edit SHOP_TOKEN');
  });

  it('offers $env in the node pickers; the workflow reads the values, the console never shows the secret', async () => {
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('button', { name: 'New workflow' }).click();
    await page.locator('.general').getByLabel('Title').fill('Greeter');
    await page.getByLabel('Sync — the caller waits').check();
    await page.getByRole('tab', { name: 'Nodes' }).click();
    await page.getByRole('button', { name: 'Add node at step 1' }).click();
    await page.getByRole('menuitem', { name: /^Response/ }).click();
    const panel = page.getByRole('complementary');
    const body = panel.getByLabel(/^Body/);
    await body.fill('');
    const picker = panel.getByLabel(/^Insert variable into Body/);
    const offered = await picker.locator('optgroup[label="Variables ($env)"] option').allTextContents();
    expect(offered).toEqual(['GREETING', 'SHOP_TOKEN (secret)']);
    await body.fill('{"greeting": "", "token": "{{$env.SHOP_TOKEN}}"}');
    // The picker inserts at the cursor: inside the empty greeting string.
    await body.evaluate((area: HTMLTextAreaElement) => area.setSelectionRange(14, 14));
    await picker.selectOption({ label: 'GREETING' });
    expect(await body.inputValue()).toBe('{"greeting": "{{$env.GREETING}}", "token": "{{$env.SHOP_TOKEN}}"}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Created “Greeter”' }).waitFor();
    const workflowId = page.url().split('/workflows/')[1];
    const { webhookUrl } = await adminApi<{ webhookUrl: string }>(`/api/workflows/${workflowId}`);

    const first = await callWebhook(webhookUrl, {});
    // (What the caller gets for the secret is the executor's business; the console's is
    // that the page never shows it, checked on the execution below.)
    expect(first).toMatchObject({ status: 200, body: { greeting: 'hello' } });

    // A change applies to executions that start afterwards.
    await page.getByRole('link', { name: 'Variables', exact: true }).click();
    await page.getByRole('button', { name: 'Edit GREETING' }).click();
    expect(await page.getByLabel('Value', { exact: true }).inputValue()).toBe('hello');
    await page.getByLabel('Value', { exact: true }).fill('hi');
    await page.getByRole('button', { name: 'Save variable' }).click();
    await row('GREETING').getByText('hi', { exact: true }).waitFor();
    // The next call reads the change at once.
    const second = await callWebhook(webhookUrl, {});
    expect(second).toMatchObject({ status: 200, body: { greeting: 'hi' } });

    // The execution record masks the secret, and so the console cannot show it.
    const executionId = second.headers.get('x-hookflow-execution-id');
    expect(executionId).toBeTruthy();
    await page.goto(`${CONSOLE_URL}/executions/${executionId}`);
    await page.getByRole('heading', { name: 'Node jobs' }).waitFor();
    await page.getByLabel('Recorded response').getByText('"greeting": "hi"', { exact: false }).waitFor();
    await expectNoSecret();
  });

  it('deletes a variable', async () => {
    await page.getByRole('link', { name: 'Variables', exact: true }).click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete GREETING' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted GREETING.' }).waitFor();
    expect(await row('GREETING').count()).toBe(0);
    await row('SHOP_TOKEN').waitFor();
  });
});
