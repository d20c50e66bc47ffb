// The node tree addressed the way config-api names places in its 422 problems:
// a chain is `nodes` or `<node>.branches.<name>`, a node is `<chain>[<index>]`.

import type { WorkflowNode } from './types';

export const MAIN_CHAIN = 'nodes';

type Step = { branch: string; index: number };

/** Splits a node path (`nodes[0].branches.true[1]`) into steps; `null` when it names no node. */
export function parseNodePath(path: string): { first: number; rest: Step[] } | null {
  const head = /^nodes\[(\d+)\]/.exec(path);
  if (!head) return null;
  const rest: Step[] = [];
  let tail = path.slice(head[0].length);
  while (tail.length > 0) {
    const step = /^\.branches\.([^.[\]]+)\[(\d+)\]/.exec(tail);
    if (!step) return null;
    rest.push({ branch: step[1], index: Number(step[2]) });
    tail = tail.slice(step[0].length);
  }
  return { first: Number(head[1]), rest };
}

/** The path of the node at `index` of `chain`. */
export function nodePath(chain: string, index: number): string {
  return `${chain}[${index}]`;
}

/** The path of a node's branch. */
export function branchPath(node: string, branch: string): string {
  return `${node}.branches.${branch}`;
}

/** Splits a node path into its chain and its index there. */
export function splitNodePath(path: string): { chain: string; index: number } {
  const match = /^(.*)\[(\d+)\]$/.exec(path);
  if (!match) throw new Error(`not a node path: ${path}`);
  return { chain: match[1], index: Number(match[2]) };
}

export function getNode(nodes: WorkflowNode[], path: string): WorkflowNode | undefined {
  const parsed = parseNodePath(path);
  if (!parsed) return undefined;
  let node: WorkflowNode | undefined = nodes[parsed.first];
  for (const step of parsed.rest) {
    node = node?.branches?.[step.branch]?.[step.index];
  }
  return node;
}

export function getChain(nodes: WorkflowNode[], chain: string): WorkflowNode[] | undefined {
  if (chain === MAIN_CHAIN) return nodes;
  const owner = ownerOf(chain);
  if (owner === null) return undefined;
  return getNode(nodes, owner)?.branches?.[chain.slice(owner.length + '.branches.'.length)];
}

/** A copy of the tree with the chain at `chain` replaced by what `change` makes of it. */
export function updateChain(
  nodes: WorkflowNode[],
  chain: string,
  change: (chain: WorkflowNode[]) => WorkflowNode[],
): WorkflowNode[] {
  if (chain === MAIN_CHAIN) return change(nodes);
  const match = /^(.*)\.branches\.([^.[\]]+)$/.exec(chain);
  if (!match) throw new Error(`not a chain path: ${chain}`);
  const [, owner, branch] = match;
  return updateNode(nodes, owner, (node) => ({
    ...node,
    branches: { ...node.branches, [branch]: change(node.branches?.[branch] ?? []) },
  }));
}

/** A copy of the tree with the node at `path` replaced by what `change` makes of it. */
export function updateNode(
  nodes: WorkflowNode[],
  path: string,
  change: (node: WorkflowNode) => WorkflowNode,
): WorkflowNode[] {
  const { chain, index } = splitNodePath(path);
  return updateChain(nodes, chain, (list) => {
    if (index < 0 || index >= list.length) throw new Error(`no node at ${path}`);
    return list.map((node, i) => (i === index ? change(node) : node));
  });
}

export function insertNode(
  nodes: WorkflowNode[],
  chain: string,
  index: number,
  node: WorkflowNode,
): WorkflowNode[] {
  return updateChain(nodes, chain, (list) => [...list.slice(0, index), node, ...list.slice(index)]);
}

export function removeNode(nodes: WorkflowNode[], path: string): WorkflowNode[] {
  const { chain, index } = splitNodePath(path);
  return updateChain(nodes, chain, (list) => list.filter((_, i) => i !== index));
}

/** Moves a node one place up (`-1`) or down (`+1`) in its chain; at an end nothing moves. */
export function moveNode(nodes: WorkflowNode[], path: string, delta: -1 | 1): WorkflowNode[] {
  const { chain, index } = splitNodePath(path);
  return updateChain(nodes, chain, (list) => {
    const target = index + delta;
    if (target < 0 || target >= list.length) return list;
    const moved = [...list];
    [moved[index], moved[target]] = [moved[target], moved[index]];
    return moved;
  });
}

/** Every node of the tree, depth first in flow order, with its path. */
export function allNodes(nodes: WorkflowNode[], chain = MAIN_CHAIN): { path: string; node: WorkflowNode }[] {
  return nodes.flatMap((node, i) => {
    const path = nodePath(chain, i);
    const inner = Object.entries(node.branches ?? {}).flatMap(([name, branch]) =>
      allNodes(branch, branchPath(path, name)),
    );
    return [{ path, node }, ...inner];
  });
}

/** A key no node of the tree has yet, readable in templates: `condition1`, `response2`. */
export function freshKey(nodes: WorkflowNode[], type: string): string {
  const taken = new Set(allNodes(nodes).map(({ node }) => node.key));
  for (let n = 1; ; n++) {
    const key = `${type}${n}`;
    if (!taken.has(key)) return key;
  }
}

/** The node whose branch `chain` is; `null` for the main chain. */
export function ownerOf(chain: string): string | null {
  return /^(.*)\.branches\.[^.[\]]+$/.exec(chain)?.[1] ?? null;
}

/**
 * The nodes whose outputs exist when the node at `path` runs, nearest first: the earlier
 * nodes of its chain, the branching node it is in, that node's earlier nodes, and so on up
 * to the main chain (what NocoBase calls the upstream nodes).
 */
export function upstreamNodes(
  nodes: WorkflowNode[],
  path: string,
): { path: string; node: WorkflowNode }[] {
  const { chain, index } = splitNodePath(path);
  const list = getChain(nodes, chain) ?? [];
  const found: { path: string; node: WorkflowNode }[] = [];
  for (let i = Math.min(index, list.length) - 1; i >= 0; i--) {
    found.push({ path: nodePath(chain, i), node: list[i] });
  }
  const owner = ownerOf(chain);
  const ownerNode = owner === null ? undefined : getNode(nodes, owner);
  if (owner !== null && ownerNode) {
    found.push({ path: owner, node: ownerNode }, ...upstreamNodes(nodes, owner));
  }
  return found;
}
