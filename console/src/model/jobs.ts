// An execution's jobs in the order of the workflow's flow (the order a reader follows the
// chain), each with the node it ran.

import { allNodes } from './chain';
import type { Job, WorkflowNode } from './types';

export interface FlowJob {
  job: Job;
  node: WorkflowNode | undefined;
  /** Nesting depth of the node (0: main chain), for indenting. */
  depth: number;
}

export function jobsInFlowOrder(jobs: Job[], nodes: WorkflowNode[]): FlowJob[] {
  const flow = allNodes(nodes);
  const position = new Map(flow.map((entry, i) => [entry.node.key, i]));
  const byKey = new Map(flow.map((entry) => [entry.node.key, entry]));
  return jobs
    .map((job, ran) => ({ job, ran }))
    .sort((a, b) => {
      const pa = position.get(a.job.nodeKey) ?? Number.MAX_SAFE_INTEGER;
      const pb = position.get(b.job.nodeKey) ?? Number.MAX_SAFE_INTEGER;
      // Repeated jobs of one node (loop iterations) and unknown nodes keep their run order.
      return pa - pb || a.ran - b.ran;
    })
    .map(({ job }) => {
      const entry = byKey.get(job.nodeKey);
      return { job, node: entry?.node, depth: entry ? (entry.path.match(/\.branches\./g) ?? []).length : 0 };
    });
}
