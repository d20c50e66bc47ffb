import { describe, expect, it } from 'vitest';

import {
  allNodes,
  freshKey,
  getChain,
  getNode,
  insertNode,
  moveNode,
  parseNodePath,
  removeNode,
  updateNode,
  upstreamNodes,
} from './chain';
import type { WorkflowNode } from './types';

const node = (key: string, type = 'calculation', branches?: Record<string, WorkflowNode[]>): WorkflowNode => ({
  key,
  type,
  config: {},
  ...(branches ? { branches } : {}),
});

// a → paid(condition){true: [ok, inner(condition){true: [deep]}], false: [bad]} → z
const tree = (): WorkflowNode[] => [
  node('a'),
  node('paid', 'condition', {
    true: [node('ok'), node('inner', 'condition', { true: [node('deep')], false: [] })],
    false: [node('bad', 'response')],
  }),
  node('z'),
];

describe('node paths', () => {
  it('parses the paths config-api names', () => {
    expect(parseNodePath('nodes[1].branches.true[0]')).toEqual({ first: 1, rest: [{ branch: 'true', index: 0 }] });
    expect(parseNodePath('nodes[1].config')).toBeNull();
    expect(parseNodePath('trigger')).toBeNull();
  });

  it('finds nodes and chains', () => {
    const nodes = tree();
    expect(getNode(nodes, 'nodes[1].branches.true[1].branches.true[0]')?.key).toBe('deep');
    expect(getNode(nodes, 'nodes[1].branches.false[0]')?.key).toBe('bad');
    expect(getNode(nodes, 'nodes[7]')).toBeUndefined();
    expect(getChain(nodes, 'nodes[1].branches.true')?.map((n) => n.key)).toEqual(['ok', 'inner']);
    expect(getChain(nodes, 'nodes')).toBe(nodes);
  });

  it('lists every node in flow order', () => {
    expect(allNodes(tree()).map((e) => e.node.key)).toEqual(['a', 'paid', 'ok', 'inner', 'deep', 'bad', 'z']);
  });
});

describe('editing the chain', () => {
  it('adds a node to the main chain and into a branch without touching the original', () => {
    const nodes = tree();
    const added = insertNode(nodes, 'nodes', 0, node('first'));
    expect(added.map((n) => n.key)).toEqual(['first', 'a', 'paid', 'z']);
    const inBranch = insertNode(nodes, 'nodes[1].branches.false', 1, node('after-bad'));
    expect(getChain(inBranch, 'nodes[1].branches.false')?.map((n) => n.key)).toEqual(['bad', 'after-bad']);
    const empty = insertNode(nodes, 'nodes[1].branches.true[1].branches.false', 0, node('e'));
    expect(getNode(empty, 'nodes[1].branches.true[1].branches.false[0]')?.key).toBe('e');
    expect(allNodes(nodes)).toHaveLength(7);
  });

  it('removes a node with its branches', () => {
    const nodes = tree();
    expect(removeNode(nodes, 'nodes[1]').map((n) => n.key)).toEqual(['a', 'z']);
    const fewer = removeNode(nodes, 'nodes[1].branches.true[0]');
    expect(getChain(fewer, 'nodes[1].branches.true')?.map((n) => n.key)).toEqual(['inner']);
  });

  it('moves a node within its chain, and not past its ends', () => {
    const nodes = tree();
    expect(moveNode(nodes, 'nodes[0]', 1).map((n) => n.key)).toEqual(['paid', 'a', 'z']);
    expect(moveNode(nodes, 'nodes[0]', -1).map((n) => n.key)).toEqual(['a', 'paid', 'z']);
    const moved = moveNode(nodes, 'nodes[1].branches.true[1]', -1);
    expect(getChain(moved, 'nodes[1].branches.true')?.map((n) => n.key)).toEqual(['inner', 'ok']);
    expect(getNode(moved, 'nodes[1].branches.true[0].branches.true[0]')?.key).toBe('deep');
  });

  it('updates one node in place', () => {
    const changed = updateNode(tree(), 'nodes[1].branches.false[0]', (n) => ({ ...n, title: 'Not paid' }));
    expect(getNode(changed, 'nodes[1].branches.false[0]')?.title).toBe('Not paid');
    expect(() => updateNode(tree(), 'nodes[9]', (n) => n)).toThrow();
  });

  it('gives keys no node has', () => {
    expect(freshKey(tree(), 'response')).toBe('response1');
    expect(freshKey([node('response1'), node('response2')], 'response')).toBe('response3');
  });
});

describe('upstream nodes', () => {
  it('are the earlier nodes, the branching nodes above, and their earlier nodes', () => {
    const keys = (path: string) => upstreamNodes(tree(), path).map((e) => e.node.key);
    expect(keys('nodes[0]')).toEqual([]);
    expect(keys('nodes[2]')).toEqual(['paid', 'a']);
    expect(keys('nodes[1].branches.true[1].branches.true[0]')).toEqual(['inner', 'ok', 'paid', 'a']);
    // The other branch's nodes never ran on this path.
    expect(keys('nodes[1].branches.false[0]')).toEqual(['paid', 'a']);
    // A place after the last node (where a new one would go) sees the whole chain.
    expect(keys('nodes[1].branches.true[2]')).toEqual(['inner', 'ok', 'paid', 'a']);
  });
});
