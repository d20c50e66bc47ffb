// An execution's jobs in the order of the workflow's flow (the order a reader follows the
// chain), each with the node it ran. Inside a loop the body's jobs are grouped by iteration:
// iteration 0's nodes, then iteration 1's, and so on.

import { allNodes, getNode, ownerOf, splitNodePath } from './chain';
import type { Job, WorkflowNode } from './types';

export interface FlowJob {
  job: Job;
  node: WorkflowNode | undefined;
  /** Nesting depth of the node (0: main chain), for indenting. */
  depth: number;
}

/** The paths of the loops whose body holds the node at `path`, outer first. */
function loopsAround(nodes: WorkflowNode[], path: string): string[] {
  const loops: string[] = [];
  for (let chain = splitNodePath(path).chain, owner = ownerOf(chain); owner !== null; ) {
    if (getNode(nodes, owner)?.type === 'loop' && chain === `${owner}.branches.body`) loops.unshift(owner);
    chain = splitNodePath(owner).chain;
    owner = ownerOf(chain);
  }
  return loops;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function jobsInFlowOrder(jobs: Job[], nodes: WorkflowNode[]): FlowJob[] {
  const flow = allNodes(nodes);
  const position = new Map(flow.map((entry, i) => [entry.path, i]));
  const byKey = new Map(flow.map((entry) => [entry.node.key, entry]));
  const order = (job: Job): number[] => {
    const entry = byKey.get(job.nodeKey);
    if (!entry) return [Number.MAX_SAFE_INTEGER];
    // [loop, its iteration, inner loop, its iteration, …, the node]
    const key: number[] = [];
    loopsAround(nodes, entry.path).forEach((loop, i) => key.push(position.get(loop) ?? 0, job.iteration?.[i] ?? 0));
    key.push(position.get(entry.path) ?? 0);
    return key;
  };
  return jobs
    .map((job, ran) => ({ job, ran, key: order(job) }))
    // Unknown nodes and repeats the keys do not tell apart keep their run order.
    .sort((a, b) => compare(a.key, b.key) || a.ran - b.ran)
    .map(({ job }) => {
      const entry = byKey.get(job.nodeKey);
      return { job, node: entry?.node, depth: entry ? (entry.path.match(/\.branches\./g) ?? []).length : 0 };
    });
}

/** How a job's iteration reads: `iteration 2`, or `iteration 0 › 3` inside nested loops. */
export function iterationText(iteration: number[] | undefined | null): string | null {
  if (!iteration || iteration.length === 0) return null;
  return `iteration ${iteration.join(' › ')}`;
}
