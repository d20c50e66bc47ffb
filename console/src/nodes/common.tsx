// Fields every node form starts with (title, key), and helpers for config edits.

import { FieldProblems } from '../components/common';
import { TextField } from '../components/fields';
import { problemsAt } from '../model/problems';
import type { Json, WorkflowNode } from '../model/types';
import type { NodeFormProps } from './registry';

export function setConfig(node: WorkflowNode, name: string, value: Json | undefined): WorkflowNode {
  const config = { ...node.config };
  if (value === undefined) delete config[name];
  else config[name] = value;
  return { ...node, config };
}

export function NodeIdentity({ node, path, problems, onChange }: NodeFormProps) {
  return (
    <div className="row-fields">
      <TextField
        label="Title"
        value={node.title ?? ''}
        placeholder={node.type}
        onChange={(title) => onChange({ ...node, title: title || undefined })}
        problems={problemsAt(problems, `${path}.title`)}
      />
      <TextField
        label="Key"
        value={node.key}
        onChange={(key) => onChange({ ...node, key })}
        problems={problemsAt(problems, `${path}.key`)}
        hint={<>Its output: <code>{`{{$jobsMapByNodeKey.${node.key}}}`}</code></>}
      />
    </div>
  );
}

export function ConfigProblems({ path, problems, field }: { path: string; problems: NodeFormProps['problems']; field: string }) {
  return <FieldProblems problems={problems.filter((p) => p.path === `${path}.${field}` || p.path.startsWith(`${path}.${field}.`))} />;
}

export const END_STATUSES = [
  { value: '1', label: 'Resolved (1)' },
  { value: '-1', label: 'Failed (-1)' },
];
