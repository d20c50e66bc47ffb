// What a variable picker offers at a place in the document: the declared trigger variables
// as `$context` paths, the outputs of the nodes that ran before, the loops a node is inside
// (`$scopes`), the `$env` variables and the system values.

import { getNode, ownerOf, splitNodePath, upstreamNodes } from './chain';
import type { FieldSpec, WorkflowDocument, WorkflowNode } from './types';

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

/** A `$env` variable as a picker offers it (the value is never needed). */
export interface EnvName {
  name: string;
  secret: boolean;
}

/** Node types whose output exists only once they finished, so not inside their branches. */
const OUTPUT_AFTER_BRANCHES = ['loop', 'parallel'];

/** The loops whose `body` the node at `nodePath` is in, innermost first. */
export function enclosingLoops(nodes: WorkflowNode[], nodePath: string): WorkflowNode[] {
  const loops: WorkflowNode[] = [];
  let path = nodePath;
  for (;;) {
    const { chain } = splitNodePath(path);
    const owner = ownerOf(chain);
    if (owner === null) return loops;
    const node = getNode(nodes, owner);
    if (node?.type === 'loop' && chain === `${owner}.branches.body`) loops.push(node);
    path = owner;
  }
}

/** The declared paths under a loop's target (`{{$context.body.items}}` and a declared
 * `items[0].id` give `id`), which its `item` then has. */
function itemPaths(doc: WorkflowDocument, target: unknown): string[] {
  const match = typeof target === 'string' ? /^\s*\{\{\s*\$context\.(query|body)\.([^{}:\s]+)\s*\}\}\s*$/.exec(target) : null;
  if (!match) return [];
  const [, part, path] = match;
  const prefix = `${path}[0].`;
  const specs = doc.trigger?.request?.[part as 'query' | 'body'] ?? [];
  return specs.map((spec) => spec.key.trim()).filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
}

function scopeOptions(doc: WorkflowDocument, loops: WorkflowNode[]): VariableOption[] {
  return loops.flatMap((loop) => {
    const name = loop.title || loop.key;
    const root = `$scopes.${loop.key}`;
    return [
      { path: `${root}.item`, label: `${name}: current item` },
      ...itemPaths(doc, loop.config?.target).map((rest) => ({ path: `${root}.item.${rest}`, label: `${name}: item.${rest}` })),
      { path: `${root}.index`, label: `${name}: index (from 0)` },
      { path: `${root}.length`, label: `${name}: length` },
    ];
  });
}

/**
 * The groups a picker offers for a field of the node at `nodePath` (`null`: a trigger field,
 * where only the trigger's data exists), with the `$env` variables in `env`.
 */
export function variableGroups(doc: WorkflowDocument, nodePath: string | null, env: EnvName[] = []): VariableGroup[] {
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
    const nodes = doc.nodes ?? [];
    const owners = new Set<string>();
    for (let chain = splitNodePath(nodePath).chain, owner = ownerOf(chain); owner !== null; owner = ownerOf(splitNodePath(owner).chain)) {
      owners.add(owner);
    }
    groups.push({
      label: 'Earlier nodes',
      options: upstreamNodes(nodes, nodePath)
        // A loop's or parallel's output is not there yet inside its own branches.
        .filter(({ path, node }) => !(owners.has(path) && OUTPUT_AFTER_BRANCHES.includes(node.type)))
        .map(({ node }) => ({
          path: `$jobsMapByNodeKey.${node.key}`,
          label: `${node.title || node.key} (${node.type})`,
        })),
    });
    groups.push({ label: 'Loop scopes', options: scopeOptions(doc, enclosingLoops(nodes, nodePath)) });
    groups.push({
      label: 'Variables ($env)',
      options: env.map((v) => ({ path: `$env.${v.name}`, label: v.secret ? `${v.name} (secret)` : v.name })),
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
