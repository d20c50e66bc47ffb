// What a variable picker offers at a place in the document: the declared trigger variables
// as `$context` paths, the outputs of the nodes that ran before, and the system values.

import { upstreamNodes } from './chain';
import type { FieldSpec, WorkflowDocument } from './types';

export interface VariableOption {
  /** The path inside `{{ }}`, e.g. `$context.body.id`. */
  path: string;
  /** What the picker shows, e.g. `Amount (body.amount)`. */
  label: string;
}

export interface VariableGroup {
  label: string;
  options: VariableOption[];
}

function declared(specs: FieldSpec[] | undefined, root: string, lowerCase = false): VariableOption[] {
  return (specs ?? [])
    .filter((spec) => spec.key.trim() !== '')
    .map((spec) => {
      const key = lowerCase ? spec.key.trim().toLowerCase() : spec.key.trim();
      const where = `${root}.${key}`;
      return {
        path: `$context.${where}`,
        label: spec.alias ? `${spec.alias} (${where})` : where,
      };
    });
}

/** The groups a picker offers for a field of the node at `nodePath` (`null`: a trigger field). */
export function variableGroups(doc: WorkflowDocument, nodePath: string | null): VariableGroup[] {
  const request = doc.trigger?.request;
  const groups: VariableGroup[] = [
    {
      label: 'Trigger variables',
      options: [
        ...declared(request?.headers, 'headers', true),
        ...declared(request?.query, 'query'),
        ...declared(request?.body, 'body'),
      ],
    },
  ];
  if (nodePath !== null) {
    groups.push({
      label: 'Earlier nodes',
      options: upstreamNodes(doc.nodes ?? [], nodePath).map(({ node }) => ({
        path: `$jobsMapByNodeKey.${node.key}`,
        label: `${node.title || node.key} (${node.type})`,
      })),
    });
  }
  groups.push({
    label: 'System',
    options: [
      { path: '$context.body', label: 'Whole body' },
      { path: '$context.query', label: 'Whole query' },
      { path: '$system.now', label: 'Now (ISO-8601)' },
      { path: '$execution.id', label: 'Execution id' },
      { path: '$workflow.key', label: 'Workflow key' },
    ],
  });
  return groups.filter((group) => group.options.length > 0);
}

/** The template that inserts `path`. */
export function template(path: string): string {
  return `{{${path}}}`;
}
