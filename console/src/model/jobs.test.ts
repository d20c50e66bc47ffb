import { describe, expect, it } from 'vitest';

import { iterationText, jobsInFlowOrder } from './jobs';
import type { Job, WorkflowNode } from './types';

const nodes: WorkflowNode[] = [
  { key: 'start', type: 'calculation', config: {} },
  {
    key: 'each',
    type: 'loop',
    config: {},
    branches: {
      body: [
        { key: 'price', type: 'calculation', config: {} },
        { key: 'rows', type: 'loop', config: {}, branches: { body: [{ key: 'row', type: 'delay', config: {} }] } },
      ],
    },
  },
  {
    key: 'fan',
    type: 'parallel',
    config: {},
    branches: { a: [{ key: 'left', type: 'delay', config: {} }], b: [{ key: 'right', type: 'delay', config: {} }] },
  },
  { key: 'done', type: 'end', config: {} },
];

const job = (nodeKey: string, iteration?: number[], status = 'resolved'): Job => ({
  nodeKey,
  nodeType: 'x',
  status,
  result: null,
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
  ...(iteration ? { iteration } : {}),
});

const order = (jobs: Job[]) => jobsInFlowOrder(jobs, nodes).map(({ job: j }) => `${j.nodeKey}${j.iteration ? j.iteration.join('.') : ''}`);

describe('jobs in flow order', () => {
  it('group a loop body by iteration, nested loops inside their outer iteration', () => {
    // As recorded: the executor may write them in any order (the loop job last).
    const recorded = [
      job('start'),
      job('price', [1]),
      job('row', [0, 1]),
      job('price', [0]),
      job('row', [0, 0]),
      job('rows', [0]),
      job('row', [1, 0]),
      job('rows', [1]),
      job('each'),
      job('done'),
    ];
    expect(order(recorded)).toEqual(['start', 'each', 'price0', 'rows0', 'row0.0', 'row0.1', 'price1', 'rows1', 'row1.0', 'done']);
  });

  it('put parallel branches in the order they are drawn, aborted jobs included, and unknown nodes last', () => {
    const recorded = [job('ghost'), job('right'), job('left', undefined, 'aborted'), job('fan'), job('start')];
    const flow = jobsInFlowOrder(recorded, nodes);
    expect(flow.map(({ job: j }) => j.nodeKey)).toEqual(['start', 'fan', 'left', 'right', 'ghost']);
    expect(flow.map(({ depth }) => depth)).toEqual([0, 0, 1, 1, 0]);
    expect(flow[2].job.status).toBe('aborted');
    expect(flow[4].node).toBeUndefined();
  });

  it('say which iteration a job ran in', () => {
    expect(iterationText([2])).toBe('iteration 2');
    expect(iterationText([0, 3])).toBe('iteration 0 › 3');
    expect(iterationText([])).toBeNull();
    expect(iterationText(undefined)).toBeNull();
  });
});
