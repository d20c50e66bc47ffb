import { describe, expect, it } from 'vitest';

import { jobsInFlowOrder } from './jobs';
import { headerNames, mergeParsed } from './parse';
import type { Job, WorkflowNode } from './types';

describe('parse results', () => {
  it('are appended to the table, keeping existing rows and aliases', () => {
    const rows = [
      { key: 'b', alias: 'B' },
      { key: '', alias: '' },
    ];
    expect(mergeParsed(rows, ['a', 'b', 'b.c', 'a'])).toEqual([
      { key: 'b', alias: 'B' },
      { key: 'a', alias: '' },
      { key: 'b.c', alias: '' },
    ]);
  });

  it('take header names from pasted lines, never authorization', () => {
    expect(headerNames('X-Request-Id: 1\nAuthorization: Basic x\nx-request-id: 2\n\nnot a header\nX-Shop:acme')).toEqual([
      'X-Request-Id',
      'X-Shop',
    ]);
  });
});

describe('jobs', () => {
  const nodes: WorkflowNode[] = [
    { key: 'paid', type: 'condition', config: {}, branches: { true: [{ key: 'ok', type: 'response', config: {} }], false: [] } },
  ];
  const job = (nodeKey: string, startedAt: string): Job => ({
    nodeKey,
    nodeType: 'x',
    status: 'resolved',
    result: null,
    startedAt,
    finishedAt: startedAt,
  });

  it('are shown in flow order with their nesting', () => {
    const ordered = jobsInFlowOrder([job('ok', '2026-01-01T00:00:02Z'), job('paid', '2026-01-01T00:00:01Z'), job('gone', 'x')], nodes);
    expect(ordered.map((j) => [j.job.nodeKey, j.depth])).toEqual([
      ['paid', 0],
      ['ok', 1],
      ['gone', 0],
    ]);
    expect(ordered[1].node?.type).toBe('response');
  });
});
