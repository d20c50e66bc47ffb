import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ApiError, api } from './api';

/** What the client sent, and the answer it gets. */
let sent: { method: string; url: string; body: unknown; authorization: string | null }[] = [];

function answer(status: number, body: unknown) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      sent.push({
        method: init.method ?? 'GET',
        url,
        body: init.body ? JSON.parse(String(init.body)) : undefined,
        authorization: headers.get('Authorization'),
      });
      return new Response(body === undefined ? null : JSON.stringify(body), { status });
    }),
  );
}

beforeEach(() => {
  sent = [];
  const store = new Map([['hookflow.adminToken', 'tok']]);
  vi.stubGlobal('sessionStorage', { getItem: (k: string) => store.get(k) ?? null, setItem: () => {}, removeItem: () => {} });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('replay requests', () => {
  it('replay one execution with the version chosen', async () => {
    answer(201, { id: 'new-1', replayOf: 'old-1' });
    const replayed = await api.replayExecution('old-1', 'original');
    expect(replayed.id).toBe('new-1');
    expect(sent).toEqual([{ method: 'POST', url: '/api/executions/old-1/replay', body: { version: 'original' }, authorization: 'Bearer tok' }]);
    await api.replayExecution('old-1', 'current');
    expect(sent[1].body).toEqual({ version: 'current' });
  });

  it('replay a workflow’s failed executions in bulk', async () => {
    answer(201, { queued: 2, executionIds: ['a', 'b'] });
    expect(await api.replayFailed('wf-1', 'current')).toEqual({ queued: 2, executionIds: ['a', 'b'] });
    expect(sent).toEqual([
      {
        method: 'POST',
        url: '/api/executions/replay',
        body: { workflowId: 'wf-1', status: ['error', 'failed'], version: 'current' },
        authorization: 'Bearer tok',
      },
    ]);
  });

  it('turn a refusal into words', async () => {
    answer(404, { error: 'not_found', message: 'no execution old-1' });
    const error = await api.replayExecution('old-1', 'current').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe('Not found: no execution old-1.');
  });
});

describe('variable requests', () => {
  it('create, update, list and delete at /api/variables, names in the path escaped', async () => {
    answer(200, { items: [], nextCursor: null });
    await api.listVariables();
    await api.createVariable({ name: 'SHOP_TOKEN', value: 's', secret: true });
    await api.updateVariable('SHOP_TOKEN', { value: 't', secret: true });
    await api.deleteVariable('SHOP_TOKEN');
    expect(sent.map(({ method, url, body }) => [method, url, body])).toEqual([
      ['GET', '/api/variables?limit=200', undefined],
      ['POST', '/api/variables', { name: 'SHOP_TOKEN', value: 's', secret: true }],
      ['PUT', '/api/variables/SHOP_TOKEN', { value: 't', secret: true }],
      ['DELETE', '/api/variables/SHOP_TOKEN', undefined],
    ]);
  });
});
