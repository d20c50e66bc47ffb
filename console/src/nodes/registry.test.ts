import { describe, expect, it } from 'vitest';

import { drawnBranches, newNode, nodeTypes, terminates } from './index';

describe('node type registry', () => {
  it('holds the types the executor runs today', () => {
    expect(nodeTypes().map((t) => t.type)).toEqual(['condition', 'response', 'end', 'calculation', 'delay']);
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
