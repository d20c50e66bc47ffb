// Every node type the console can edit: how a new one looks, which branches it has, what
// its card says, and which config paths its form shows problems at.

import type { ComponentType } from 'react';

import type { JsonObject, Problem, WorkflowDocument, WorkflowNode } from '../model/types';
import type { EnvName } from '../model/variables';

export interface NodeFormProps {
  node: WorkflowNode;
  /** Where the node is, e.g. `nodes[0].branches.true[1]`. */
  path: string;
  doc: WorkflowDocument;
  problems: Problem[];
  /** The `$env` variables the pickers offer. */
  env: EnvName[];
  onChange: (node: WorkflowNode) => void;
}

export interface NodeTypeSpec {
  type: string;
  label: string;
  description: string;
  /** Only in sync workflows. */
  syncOnly?: boolean;
  /** The config of a node just added. */
  defaultConfig: () => JsonObject;
  /** The branches a node of this type runs, in the order they are drawn. */
  branches: (node: WorkflowNode) => string[];
  /** Whether nothing can run after it in its chain. */
  terminates: (node: WorkflowNode) => boolean;
  /** One line for its card. */
  summary: (node: WorkflowNode) => string;
  /** Config paths (relative to the node) its form shows problems at. */
  fields: string[];
  Form: ComponentType<NodeFormProps>;
}

const registry = new Map<string, NodeTypeSpec>();

export function registerNodeType(spec: NodeTypeSpec): void {
  registry.set(spec.type, spec);
}

export function nodeType(type: string): NodeTypeSpec | undefined {
  return registry.get(type);
}

export function nodeTypes(): NodeTypeSpec[] {
  return [...registry.values()];
}

/** A new node of `type` with `key`, its branches present (empty) as config-api requires. */
export function newNode(type: string, key: string): WorkflowNode {
  const spec = registry.get(type);
  if (!spec) throw new Error(`unknown node type ${type}`);
  const node: WorkflowNode = { key, type, config: spec.defaultConfig() };
  const branches = spec.branches(node);
  if (branches.length > 0) node.branches = Object.fromEntries(branches.map((name) => [name, []]));
  return node;
}

/** The branch names to draw: the type's own, then any others the document has. */
export function drawnBranches(node: WorkflowNode): string[] {
  const own = registry.get(node.type)?.branches(node) ?? [];
  const extra = Object.keys(node.branches ?? {}).filter((name) => !own.includes(name));
  return [...own, ...extra];
}

export function terminates(node: WorkflowNode): boolean {
  return registry.get(node.type)?.terminates(node) ?? false;
}
