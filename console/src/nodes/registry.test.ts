import { describe, expect, it } from 'vitest';

import { drawnBranches, newNode, nodeTypes, terminates } from './index';

describe('node type registry', () => {
  it('holds every type the executor runs, in the add-node menu order', () => {
    expect(nodeTypes().map((t) => t.type)).toEqual(['condition', 'response', 'end', 'calculation', 'delay', 'request', 'loop', 'parallel']);
  });

  it('makes loops with a body and parallels with two named branches', () => {
    expect(newNode('loop', 'each').branches).toEqual({ body: [] });
    expect(newNode('parallel', 'fan').branches).toEqual({ branch1: [], branch2: [] });
    expect(newNode('request', 'call').branches).toBeUndefined();
    expect(newNode('request', 'call').config).toEqual({ method: 'POST', url: '', contentType: 'application/json', timeout: 5000 });
    // A parallel draws the branches it has, in their order.
    const fan = { key: 'fan', type: 'parallel', config: { mode: 'race' }, branches: { slow: [], fast: [], third: [] } };
    expect(drawnBranches(fan)).toEqual(['slow', 'fast', 'third']);
    expect(terminates(fan)).toBe(false);
    expect(terminates(newNode('loop', 'each'))).toBe(false);
  });

  it('makes new nodes that config-api accepts: conditions with both branches', () => {
    const condition = newNode('condition', 'condition1');
    expect(condition.branches).toEqual({ true: [], false: [] });
    expect(condition.config).toMatchObject({ engine: 'basic', rejectOnFalse: false });
    expect(newNode('response', 'r').branches).toBeUndefined();
    expect(() => newNode('teleport', 't')).toThrow();
  });

  it('draws the branches a node has and knows which nodes end a chain', () => {
    const condition = newNode('condition', 'c');
    condition.branches = { ...condition.branches, extra: [] };
    expect(drawnBranches(condition)).toEqual(['true', 'false', 'extra']);
    expect(terminates(newNode('response', 'r'))).toBe(true);
    expect(terminates(newNode('end', 'e'))).toBe(true);
    expect(terminates(newNode('delay', 'd'))).toBe(false);
    expect(terminates({ key: 'x', type: 'unknown', config: {} })).toBe(false);
  });
});
