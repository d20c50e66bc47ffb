// The console against the real services: sign in, build a sync workflow through the forms,
// call its webhook, and follow the execution; screenshots of every main screen.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN_TOKEN, CONSOLE_URL, INGRESS_URL, eventually, launch, screenshot } from './browser';

let browser: Browser;
let page: Page;
let workflowId = '';
let webhookUrl = '';

beforeAll(async () => {
  ({ browser, page } = await launch());
});

afterAll(async () => {
  await browser?.close();
});

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${CONSOLE_URL}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
  });
  expect(response.ok, `${path}: ${response.status}`).toBe(true);
  return (await response.json()) as T;
}

const nodePanel = () => page.getByRole('complementary');

describe('the console', () => {
  it('signs in with the admin token only', async () => {
    await page.goto(CONSOLE_URL);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'admin token was refused' }).waitFor();
    await screenshot(page, '01-sign-in');

    // The keyboard alone signs in.
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('hookflow.adminToken'))).toBe(ADMIN_TOKEN);
    // A reload keeps the session.
    await page.reload();
    await page.getByRole('button', { name: 'New workflow' }).waitFor();
  });

  it('builds a sync workflow with a condition and two responses through the forms', async () => {
    await page.getByRole('button', { name: 'New workflow' }).click();
    await page.getByRole('heading', { name: 'New workflow' }).waitFor();
    await page.getByLabel('Sync — the caller waits').check();
    await page.getByLabel('Sync timeout (ms)').fill('5000');

    const query = page.getByRole('region', { name: 'Query' });
    await query.getByLabel('Example URL or query string').fill(`${INGRESS_URL}/api/webhook:trigger/abc?source=shop&items[0][id]=7`);
    await query.getByRole('button', { name: 'Parse' }).click();
    await query.getByLabel('Query key 1').waitFor();
    expect(await query.getByLabel('Query key 1').inputValue()).toBe('source');
    expect(await query.getByLabel('Query key 4').inputValue()).toBe('items[0].id');
    await query.getByLabel('Query alias 1').fill('Source');

    const body = page.getByRole('region', { name: 'Body' });
    await body.getByLabel('Example JSON body').fill('{"id": "o-1", "status": "paid", "amount": 12}');
    await body.getByRole('button', { name: 'Parse' }).click();
    await body.getByLabel('Body key 3').waitFor();
    const bodyKeys = await Promise.all([1, 2, 3].map((i) => body.getByLabel(`Body key ${i}`).inputValue()));
    expect(bodyKeys).toEqual(['id', 'status', 'amount']);
    await body.getByLabel('Body alias 3').fill('Amount');

    const headers = page.getByRole('region', { name: 'Headers' });
    await headers.getByLabel('Example headers').fill('X-Request-Id: 42\nAuthorization: Basic eA==');
    await headers.getByRole('button', { name: 'Parse' }).click();
    expect(await headers.getByLabel('Headers key 1').inputValue()).toBe('X-Request-Id');
    await screenshot(page, '03-editor-trigger', true);

    await page.getByRole('tab', { name: 'Nodes' }).click();
    await page.getByRole('button', { name: 'Add node at step 1' }).click();
    await page.getByRole('menuitem', { name: /^Condition/ }).click();
    const panel = nodePanel();
    await panel.getByLabel('Key').fill('paid');
    // The picker offers the declared body variables.
    await panel.getByLabel('Insert variable into Condition 1 left operand').selectOption({ label: 'body.status' });
    expect(await panel.getByLabel('Condition 1 left operand', { exact: true }).inputValue()).toBe('{{$context.body.status}}');
    await panel.getByLabel('Condition 1 right operand', { exact: true }).fill('paid');

    await page.getByRole('button', { name: 'Add node to branch true of paid, step 1' }).click();
    await page.getByRole('menuitem', { name: /^Response/ }).click();
    await panel.getByLabel('Key').fill('ok');
    await panel.getByLabel(/^Body/).fill('{"code": 0, "id": "{{$context.body.id}}"}');

    await page.getByRole('button', { name: 'Add node to branch false of paid, step 1' }).click();
    await page.getByRole('menuitem', { name: /^Response/ }).click();
    await panel.getByLabel('Key').fill('bad');
    await panel.getByLabel('Status code').fill('700');
    await panel.getByLabel(/^Body/).fill('{"code": 1, "message": "not paid"}');
    // Earlier nodes are offered in the branch.
    const options = await panel.getByLabel(/^Insert variable into Body/).locator('option').allTextContents();
    expect(options).toContain('paid (condition)');
  });

  it('shows the 422 problems at the fields they name', async () => {
    await page.getByRole('button', { name: 'Save' }).click();
    const problems = page.getByRole('region', { name: 'Problems' });
    await problems.waitFor();
    const text = await problems.textContent();
    expect(text).toContain('title');
    expect(text).toContain('statusCode');
    // Jumped to the first problem; the status code shows at its field in the node form.
    await page.getByRole('button', { name: /^node nodes\[0\]\.branches\.false\[0\]/ }).click();
    const status = nodePanel().getByLabel('Status code');
    expect(await status.getAttribute('aria-invalid')).toBe('true');
    await nodePanel().getByText('between 200 and 599').waitFor();
    await screenshot(page, '04-editor-problems');

    await status.fill('400');
    await page.getByRole('button', { name: /^title/ }).click();
    const title = page.locator('.general').getByLabel('Title');
    expect(await title.getAttribute('aria-invalid')).toBe('true');
    await title.fill('Payment callback');
  });

  it('saves, shows the node chain, and copies the webhook URL', async () => {
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Created “Payment callback” (version 1)' }).waitFor();
    workflowId = page.url().split('/workflows/')[1];
    const stored = await api<{ webhookUrl: string; nodes: unknown[]; trigger: { request: unknown } }>(`/api/workflows/${workflowId}`);
    webhookUrl = stored.webhookUrl;
    expect(stored.trigger.request).toEqual({
      headers: [{ key: 'X-Request-Id' }],
      query: [{ key: 'source', alias: 'Source' }, { key: 'items' }, { key: 'items[0]' }, { key: 'items[0].id' }],
      body: [{ key: 'id' }, { key: 'status' }, { key: 'amount', alias: 'Amount' }],
    });

    await page.getByRole('button', { name: 'Copy URL' }).click();
    await page.getByText('Copied', { exact: true }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(webhookUrl);

    await page.getByRole('tab', { name: 'Trigger' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Nodes' }).getAttribute('aria-selected')).toBe('true');
    // Adding, moving and removing a node with the keyboard: a delay before the condition.
    await page.getByRole('button', { name: 'Add node at step 1' }).focus();
    await page.keyboard.press('Enter');
    for (const _ of ['condition', 'response', 'end', 'calculation']) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await nodePanel().getByLabel('Duration (ms)').waitFor();
    await page.getByRole('button', { name: 'Move delay1 down' }).press('Enter');
    expect(await page.locator('.canvas > .chain > .chain-item').nth(1).getAttribute('class')).toBe('chain-item');
    expect(await page.locator('.canvas > .chain > .chain-item .node-title').nth(0).textContent()).toBe('paid');
    await page.getByRole('button', { name: 'Remove delay1' }).press('Enter');
    expect(await page.getByRole('button', { name: 'Remove delay1' }).count()).toBe(0);
    await page.getByRole('button', { name: /^Response ok/ }).click();
    await nodePanel().getByLabel('Key').waitFor();
    await screenshot(page, '05-editor-nodes');
    await page.getByRole('tab', { name: 'JSON' }).click();
    const json = JSON.parse(await page.getByLabel('Workflow document (JSON)').inputValue());
    expect(json.nodes[0].branches.false[0].config.statusCode).toBe(400);
    await screenshot(page, '06-editor-json');
  });

  it('runs the webhook and shows the execution with its jobs', async () => {
    const call = (status: string) =>
      eventually(async () => {
        const answer = await fetch(`${webhookUrl}?source=shop`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Request-Id': '42' },
          body: JSON.stringify({ id: 'o-1', status, amount: 12 }),
        });
        // Until ingress has heard of the new workflow it answers 404.
        return answer.status === 404 ? undefined : { status: answer.status, body: await answer.json() };
      });
    expect(await call('paid')).toEqual({ status: 200, body: { code: 0, id: 'o-1' } });
    expect(await call('pending')).toEqual({ status: 400, body: { code: 1, message: 'not paid' } });

    // A second, async workflow for the list to show both kinds.
    await api('/api/workflows', {
      method: 'POST',
      body: JSON.stringify({ title: 'Order shipped', sync: false, enabled: false, trigger: { type: 'webhook', response: { statusCode: 202 } } }),
    });
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('row').filter({ hasText: 'Order shipped' }).getByText('none yet').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Payment callback' });
    await row.getByText('resolved').waitFor();
    await screenshot(page, '02-workflows');

    await page.getByRole('link', { name: 'Executions', exact: true }).click();
    await page.getByRole('heading', { name: 'Executions' }).waitFor();
    // Other test files share the services: this workflow's executions only.
    await page.getByLabel('Workflow').selectOption({ label: 'Payment callback' });
    await page.getByRole('row').nth(2).waitFor();
    expect(await page.getByRole('row').count()).toBe(3);
    // A response node ends its workflow as resolved, whichever branch it is in.
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No executions with status failed yet').waitFor();
    await page.getByLabel('Status').selectOption('resolved');
    await eventually(async () => ((await page.getByRole('row').count()) === 3 ? true : undefined));
    expect(page.url()).toContain('status=resolved');
    await screenshot(page, '07-executions');

    // Newest first: the second row is the paid call.
    await page.getByRole('row').nth(2).getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Node jobs' }).waitFor();
    const jobs = page.locator('.jobs > li');
    await eventually(async () => ((await jobs.count()) === 2 ? true : undefined));
    expect(await jobs.nth(0).textContent()).toContain('paid');
    expect(await jobs.nth(0).textContent()).toContain('resolved');
    expect(await jobs.nth(1).textContent()).toContain('ok');
    expect(await page.getByLabel('Recorded response').textContent()).toContain('"statusCode": 200');
    expect(await page.getByLabel('Request body').textContent()).toContain('"status": "paid"');
    expect(await page.getByLabel('Request headers').textContent()).toContain('x-request-id');
    await screenshot(page, '08-execution');
  });

  it('replays the execution with the version that ran it and shows the new one', async () => {
    const original = page.url().split('/executions/')[1];
    await page.getByLabel('Replay with').selectOption('original');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/executions/') && !url.pathname.endsWith(original));
    const replay = page.url().split('/executions/')[1];
    // The new execution names the one it replays, and links back to it.
    await page.getByRole('link', { name: original }).waitFor();
    // It runs the recorded request again: the same two jobs, resolved.
    const jobs = page.locator('.jobs > li');
    await eventually(async () => ((await jobs.count()) === 2 && (await page.locator('h1 .badge').textContent()) === 'resolved' ? true : undefined));
    expect(await jobs.nth(1).textContent()).toContain('ok');
    expect(await page.getByLabel('Request body').textContent()).toContain('"status": "paid"');
    const stored = await api<{ replayOf: string; version: number; status: string }>(`/api/executions/${replay}`);
    expect(stored).toMatchObject({ replayOf: original, version: 1, status: 'resolved' });
    await screenshot(page, '10-replay');
  });

  it('stores an edit as a new version and lists the versions', async () => {
    await page.goto(`${CONSOLE_URL}/workflows/${workflowId}`);
    await page.locator('.general').getByLabel('Title').fill('Payment callback v2');
    // A guarding setting config-api refuses shows its problem at its field.
    await page.getByLabel('Rate limit').check();
    const perSecond = page.getByLabel('Calls per second');
    await perSecond.fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('region', { name: 'Problems' }).waitFor();
    expect(await perSecond.getAttribute('aria-invalid')).toBe('true');
    await perSecond.fill('50');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved version 2.' }).waitFor();
    await page.getByRole('tab', { name: 'Versions' }).click();
    await page.getByRole('cell', { name: 'Payment callback v2' }).waitFor();
    expect(await page.getByRole('row').count()).toBe(3);
    await screenshot(page, '09-versions');
  });

  it('switches a workflow off from the list, and deletes it', async () => {
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    const toggle = page.getByRole('switch', { name: 'Enabled: Payment callback v2' });
    expect(await toggle.isChecked()).toBe(true);
    await toggle.click();
    await eventually(async () => ((await api<{ enabled: boolean }>(`/api/workflows/${workflowId}`)).enabled ? undefined : true));
    await eventually(async () => ((await toggle.isChecked()) ? undefined : true));

    await page.getByRole('link', { name: 'Payment callback v2' }).click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Order shipped' }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'Payment callback' }).count()).toBe(0);
    const gone = await fetch(`${CONSOLE_URL}/api/workflows/${workflowId}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(gone.status).toBe(404);
  });
});
