// Where the console shows each problem of a 422 answer. Problem paths name places in the
// document (`title`, `trigger.request.query[0].key`, `nodes[0].branches.true[1].config.statusCode`);
// each form field declares the path it edits, and the rest is shown on the enclosing card.

import type { Problem } from './types';

export type Section = 'general' | 'trigger' | 'nodes' | 'document';

export interface Target {
  section: Section;
  /** The node the problem is about, when it is about one. */
  node: string | null;
  /** The path relative to the node (`config.statusCode`, `key`, `` for the node itself). */
  field: string;
}

const NODE = /^(nodes\[\d+\](?:\.branches\.[^.[\]]+\[\d+\])*)(?:\.(.*))?$/;

/** The deepest node a problem path is inside, and the rest of the path. */
export function problemTarget(path: string): Target {
  if (path === 'title' || path === 'enabled' || path === 'sync') {
    return { section: 'general', node: null, field: path };
  }
  if (path.startsWith('trigger') || path.startsWith('options')) {
    return { section: 'trigger', node: null, field: path };
  }
  const match = NODE.exec(path);
  if (match) {
    const rest = match[2] ?? '';
    // A missing branch (`nodes[0].branches.true`) belongs to the node that needs it.
    return { section: 'nodes', node: match[1], field: rest };
  }
  if (path === 'nodes') return { section: 'nodes', node: null, field: '' };
  return { section: 'document', node: null, field: path };
}

/** Problems exactly at `path`. */
export function problemsAt(problems: Problem[], path: string): Problem[] {
  return problems.filter((p) => p.path === path);
}

/** Problems about the node at `node` whose field is none of `shown` (those show at their field). */
export function nodeProblems(problems: Problem[], node: string, shown: string[]): Problem[] {
  return problems.filter((p) => {
    const target = problemTarget(p.path);
    return target.node === node && !shown.some((field) => target.field === field);
  });
}

/** Problems in `section` that no field in `shown` (full paths) displays. */
export function sectionProblems(problems: Problem[], section: Section, shown: string[]): Problem[] {
  return problems.filter((p) => {
    const target = problemTarget(p.path);
    return target.section === section && target.node === null && !shown.includes(p.path);
  });
}

/** How many problems each section holds, for the tab badges. */
export function problemCounts(problems: Problem[]): Record<Section, number> {
  const counts: Record<Section, number> = { general: 0, trigger: 0, nodes: 0, document: 0 };
  for (const p of problems) counts[problemTarget(p.path).section]++;
  return counts;
}

/** Words for where a problem is, for the summary list. */
export function describePath(path: string): string {
  const target = problemTarget(path);
  if (target.node) return target.field ? `node ${target.node}, ${target.field}` : `node ${target.node}`;
  return path || 'the document';
}
