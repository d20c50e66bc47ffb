// The flow-shaping nodes, the request node and the sync timeout answer, built through the
// forms against the real services; and the bulk Replay of a workflow's failed executions.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONSOLE_URL, adminApi, callWebhook, eventually, launch, screenshot, signIn } from './browser';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  ({ browser, page } = await launch());
  await signIn(page);
});

afterAll(async () => {
  await browser?.close();
});

const panel = () => page.getByRole('complementary');
const optionsOf = async (label: RegExp | string, group: string) =>
  panel().getByLabel(label).locator(`optgroup[label="${group}"] option`).allTextContents();

async function newWorkflow(title: string, sync: boolean): Promise<void> {
  await page.goto(`${CONSOLE_URL}/workflows/new`);
  await page.locator('.general').getByLabel('Title').fill(title);
  if (sync) await page.getByLabel('Sync — the caller waits').check();
}

async function addNode(where: string, type: RegExp): Promise<void> {
  await page.getByRole('button', { name: where }).click();
  await page.getByRole('menuitem', { name: type }).click();
  await panel().getByLabel('Key').waitFor();
}

async function save(title: string): Promise<{ id: string; webhookUrl: string }> {
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: `Created “${title}”` }).waitFor();
  const id = page.url().split('/workflows/')[1];
  return adminApi<{ id: string; webhookUrl: string }>(`/api/workflows/${id}`);
}

describe('loop and parallel nodes', () => {
  it('are built through their forms, run, and show each iteration’s jobs', async () => {
    await newWorkflow('Order items', true);
    const body = page.getByRole('region', { name: 'Body' });
    await body.getByLabel('Example JSON body').fill('{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}');
    await body.getByRole('button', { name: 'Parse' }).click();
    await body.getByLabel('Body key 4').waitFor();
    await page.getByRole('tab', { name: 'Nodes' }).click();

    await addNode('Add node at step 1', /^Loop/);
    await panel().getByLabel('Key').fill('each');
    await panel().getByLabel('Insert variable into Target').selectOption({ label: 'body.items' });
    expect(await panel().getByLabel('Target', { exact: true }).inputValue()).toBe('{{$context.body.items}}');
    await panel().getByLabel('When an iteration fails').selectOption('continue');
    // The loop's body is drawn as a branch.
    await page.getByRole('group', { name: 'Branch body of each' }).waitFor();

    await addNode('Add node to branch body of each, step 1', /^Calculation/);
    await panel().getByLabel('Key').fill('double');
    // Inside the body the picker offers the loop's scope, with the item's declared fields.
    const scopes = await optionsOf(/^Insert variable into CEL expression/, 'Loop scopes');
    expect(scopes).toEqual(['each: current item', 'each: item.sku', 'each: item.qty', 'each: index (from 0)', 'each: length']);
    await panel().getByLabel(/^Insert variable into CEL expression/).selectOption({ label: 'each: item.qty' });
    const expression = panel().getByLabel(/^CEL expression/);
    expect(await expression.inputValue()).toBe('scopes.each.item.qty');
    await expression.press('End');
    await expression.pressSequentially(' * 2');

    await addNode('Add node at step 2', /^Parallel/);
    await panel().getByLabel('Key').fill('fan');
    await panel().getByLabel('Mode').selectOption('all');
    // A third branch is added and removed again; the canvas follows.
    await panel().getByLabel('New branch name').fill('audit');
    await panel().getByLabel('New branch name').press('Enter');
    await page.getByRole('group', { name: 'Branch audit of fan' }).waitFor();
    await panel().getByLabel('New branch name').fill('audit');
    await panel().getByRole('button', { name: 'Add branch' }).click();
    await panel().getByText('There is a branch audit already.').waitFor();
    await panel().getByRole('button', { name: 'Remove branch audit' }).click();
    expect(await page.getByRole('group', { name: 'Branch audit of fan' }).count()).toBe(0);

    await addNode('Add node to branch branch1 of fan, step 1', /^Delay/);
    await panel().getByLabel('Key').fill('pause');
    await panel().getByLabel('Duration (ms)').fill('200');
    await addNode('Add node to branch branch2 of fan, step 1', /^Calculation/);
    await panel().getByLabel('Key').fill('sum');
    await panel().getByLabel(/^CEL expression/).fill('size(context.body.items) + 40');
    // Inside a branch, the parallel's own output is not there yet; the loop's is.
    const earlier = await optionsOf(/^Insert variable into CEL expression/, 'Earlier nodes');
    expect(earlier).toEqual(['each (loop)']);

    await addNode('Add node at step 3', /^Response/);
    await panel().getByLabel('Key').fill('answer');
    await panel().getByLabel(/^Body/).fill('{"count": "{{$jobsMapByNodeKey.each}}", "last": "{{$jobsMapByNodeKey.double}}", "sum": "{{$jobsMapByNodeKey.sum}}"}');
    await screenshot(page, '12-editor-loop-parallel');

    const { webhookUrl } = await save('Order items');
    const answer = await callWebhook(webhookUrl, { items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'c', qty: 5 }] });
    expect(answer).toMatchObject({ status: 200, body: { count: 3, last: 10, sum: 43 } });

    const executionId = answer.headers.get('x-hookflow-execution-id');
    await page.goto(`${CONSOLE_URL}/executions/${executionId}`);
    const jobs = page.locator('.jobs > li');
    await eventually(async () => ((await jobs.count()) === 8 ? true : undefined));
    const texts = await jobs.allTextContents();
    // Flow order: the loop, its body by iteration, the parallel and its branches, the response.
    const keys = await jobs.locator('.job-head code').allTextContents();
    expect(keys).toEqual(['each', 'double', 'double', 'double', 'fan', 'pause', 'sum', 'answer']);
    expect(texts[1]).toContain('iteration 0');
    expect(texts[3]).toContain('iteration 2');
    expect(await page.getByLabel('Result of double (iteration 2)').textContent()).toBe('10');
    await screenshot(page, '13-execution-loop');
  });
});

describe('the request node', () => {
  it('is configured through its form, its problems shown at their fields', async () => {
    await newWorkflow('Notify shop', false);
    await page.getByRole('tab', { name: 'Nodes' }).click();
    await addNode('Add node at step 1', /^HTTP request/);
    await panel().getByLabel('Key').fill('notify');
    await panel().getByLabel('Method').selectOption('PUT');
    await panel().getByLabel('URL', { exact: true }).fill('https://shop.example/orders/');
    await panel().getByLabel('Insert variable into URL').selectOption({ label: 'Execution id' });
    await panel().getByRole('button', { name: 'Add header' }).click();
    await panel().getByLabel('Request headers name 1', { exact: true }).fill('X-Shop');
    await panel().getByLabel('Request headers value 1', { exact: true }).fill('acme');
    await panel().getByRole('button', { name: 'Add parameter' }).click();
    await panel().getByLabel('Query parameters name 1', { exact: true }).fill('source');
    await panel().getByLabel('Query parameters value 1', { exact: true }).fill('hookflow');
    await panel().getByLabel('Content type').selectOption('application/x-www-form-urlencoded');
    await panel().getByRole('button', { name: 'Add field' }).click();
    await panel().getByLabel('Form data name 1', { exact: true }).fill('state');
    await panel().getByLabel('Form data value 1', { exact: true }).fill('paid');
    await panel().getByLabel('Timeout (ms)').fill('0');
    await panel().getByLabel('Go on when it fails (ignoreFail)').check();
    await panel().getByLabel('Retry').check();
    await panel().getByLabel('Attempts').fill('9');
    await screenshot(page, '14-editor-request');

    await page.getByRole('tab', { name: 'JSON' }).click();
    const doc = JSON.parse(await page.getByLabel('Workflow document (JSON)').inputValue());
    expect(doc.nodes[0]).toEqual({
      key: 'notify',
      type: 'request',
      config: {
        method: 'PUT',
        url: 'https://shop.example/orders/{{$execution.id}}',
        contentType: 'application/x-www-form-urlencoded',
        timeout: 0,
        headers: [{ name: 'X-Shop', value: 'acme' }],
        params: [{ name: 'source', value: 'hookflow' }],
        data: [{ name: 'state', value: 'paid' }],
        ignoreFail: true,
        retry: { attempts: 9, backoff: 500 },
      },
    });

    // config-api refuses the timeout and the attempts; each shows at its field.
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('region', { name: 'Problems' }).waitFor();
    await page.getByRole('button', { name: /^node nodes\[0\], config\.timeout/ }).click();
    expect(await panel().getByLabel('Timeout (ms)').getAttribute('aria-invalid')).toBe('true');
    expect(await panel().getByLabel('Attempts').getAttribute('aria-invalid')).toBe('true');
    await panel().getByLabel('Timeout (ms)').fill('2000');
    await panel().getByLabel('Attempts').fill('2');
    await save('Notify shop');
    const stored = await adminApi<{ nodes: { config: { timeout: number; retry: unknown } }[] }>(
      `/api/workflows/${page.url().split('/workflows/')[1]}`,
    );
    expect(stored.nodes[0].config).toMatchObject({ timeout: 2000, retry: { attempts: 2, backoff: 500 } });
  });
});

describe('the sync timeout answer', () => {
  it('answers the caller in place of 408 while the execution goes on', async () => {
    await newWorkflow('Slow report', true);
    await page.getByLabel('Sync timeout (ms)').fill('500');
    await page.getByLabel('Answer with my own response when the timeout passes').check();
    await page.getByLabel('Timeout answer status code').fill('202');
    const answerBody = page.getByLabel(/^Timeout answer body/);
    await answerBody.fill('{"executionId": "", "status": "running"}');
    await answerBody.evaluate((area: HTMLTextAreaElement) => area.setSelectionRange(17, 17));
    await page.getByLabel(/^Insert variable into Timeout answer body/).selectOption({ label: 'Execution id' });
    expect(await answerBody.inputValue()).toBe('{"executionId": "{{$execution.id}}", "status": "running"}');
    // The field has the focus again, its cursor just after what was inserted.
    await page.keyboard.type('x');
    expect(await answerBody.inputValue()).toBe('{"executionId": "{{$execution.id}}x", "status": "running"}');
    await page.keyboard.press('Backspace');
    expect(await answerBody.inputValue()).toBe('{"executionId": "{{$execution.id}}", "status": "running"}');
    await screenshot(page, '15-editor-timeout-answer', true);
    await page.getByRole('tab', { name: 'Nodes' }).click();
    await addNode('Add node at step 1', /^Delay/);
    await panel().getByLabel('Duration (ms)').fill('1500');
    await addNode('Add node at step 2', /^Response/);
    const { webhookUrl } = await save('Slow report');

    const answer = await callWebhook(webhookUrl, {});
    const executionId = answer.headers.get('x-hookflow-execution-id');
    expect(answer).toMatchObject({ status: 202, body: { executionId, status: 'running' } });
    // The execution goes on and is recorded.
    const finished = await eventually(async () => {
      const execution = await adminApi<{ status: string }>(`/api/executions/${executionId}`);
      return execution.status === 'resolved' ? execution : undefined;
    });
    expect(finished.status).toBe('resolved');
  });
});

describe('bulk Replay', () => {
  it('replays a workflow’s failed executions after a fix, and shows the new ones', async () => {
    const created = await adminApi<{ id: string; webhookUrl: string }>('/api/workflows', {
      method: 'POST',
      body: JSON.stringify({
        title: 'Flaky import',
        sync: false,
        enabled: true,
        trigger: { type: 'webhook' },
        nodes: [{ key: 'stop', type: 'end', config: { endStatus: -1 } }],
      }),
    });
    for (const n of [1, 2]) expect((await callWebhook(created.webhookUrl, { n })).status).toBe(200);
    await eventually(async () => {
      const page1 = await adminApi<{ items: { status: string }[] }>(`/api/executions?workflowId=${created.id}&status=failed`);
      return page1.items.length === 2 ? true : undefined;
    });
    // The fix: the node now ends the workflow as resolved.
    await adminApi(`/api/workflows/${created.id}`, {
      method: 'PUT',
      body: JSON.stringify({
        title: 'Flaky import',
        sync: false,
        enabled: true,
        trigger: { type: 'webhook' },
        nodes: [{ key: 'stop', type: 'end', config: { endStatus: 1 } }],
      }),
    });

    await page.goto(`${CONSOLE_URL}/executions?workflowId=${created.id}&status=failed`);
    await eventually(async () => ((await page.getByRole('row').count()) === 3 ? true : undefined));
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Replay failed executions' }).click();
    await page.getByRole('status').filter({ hasText: 'Queued 2 replays' }).waitFor();
    // Every status is shown again, the replays marked; they run the fixed version.
    await page.waitForURL((url) => !url.search.includes('status='));
    await eventually(async () => ((await page.locator('tr.selected').filter({ hasText: 'resolved' }).count()) === 2 ? true : undefined));
    expect(await page.getByRole('row').count()).toBe(5);
    await screenshot(page, '16-executions-replayed');
    await page.getByRole('status').getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Node jobs' }).waitFor();
    await page.getByText('Replay of').waitFor();
  });
});
