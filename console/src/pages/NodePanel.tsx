// The form of the selected node, beside the canvas.

import { useState } from 'react';

import { FieldProblems } from '../components/common';
import { nodeProblems } from '../model/problems';
import type { JsonObject, Problem, WorkflowDocument, WorkflowNode } from '../model/types';
import type { EnvName } from '../model/variables';
import { nodeType } from '../nodes';

export function NodePanel({
  node,
  path,
  doc,
  problems,
  env,
  onChange,
  onClose,
}: {
  node: WorkflowNode;
  path: string;
  doc: WorkflowDocument;
  problems: Problem[];
  env: EnvName[];
  onChange: (node: WorkflowNode) => void;
  onClose: () => void;
}) {
  const spec = nodeType(node.type);
  const leftovers = nodeProblems(problems, path, spec?.fields ?? []).filter(
    // Problems inside the config a field shows are shown there (e.g. config.headers[0].name).
    (p) => !(spec?.fields ?? []).some((f) => p.path.startsWith(`${path}.${f}`)) && !p.path.startsWith(`${path}.config.headers`),
  );
  return (
    <aside className="node-panel card" aria-label={`Node ${node.key}`}>
      <div className="panel-head">
        <h2>
          {spec?.label ?? node.type}: {node.title || node.key}
        </h2>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="muted small">
        <code>{path}</code>
      </p>
      <FieldProblems problems={leftovers} />
      {spec ? <spec.Form node={node} path={path} doc={doc} problems={problems} env={env} onChange={onChange} /> : <RawConfig node={node} onChange={onChange} />}
    </aside>
  );
}

/** A node of a type this console has no form for: its config as JSON. */
function RawConfig({ node, onChange }: { node: WorkflowNode; onChange: (node: WorkflowNode) => void }) {
  const [text, setText] = useState(JSON.stringify(node.config ?? {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="field">
      <label htmlFor="raw-config">Config of this {node.type} node (JSON)</label>
      <textarea
        id="raw-config"
        rows={12}
        value={text}
        spellCheck={false}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange({ ...node, config: JSON.parse(e.target.value) as JsonObject });
            setError(null);
          } catch (err) {
            setError(`not valid JSON: ${(err as Error).message}`);
          }
        }}
      />
      {error && <p className="error-text">{error}</p>}
    </div>
  );
}
