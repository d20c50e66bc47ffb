// A text field with a variable picker that inserts `{{path}}` (or a CEL name) at the cursor.

import { useId, useLayoutEffect, useRef } from 'react';

import { template, type VariableGroup } from '../model/variables';
import type { Problem } from '../model/types';
import { describedBy, FieldFooter } from './fields';

/** CEL sees the template roots under other names. */
export function celName(path: string): string | null {
  const roots: [string, string][] = [
    ['$context', 'context'],
    ['$jobsMapByNodeKey', 'jobs'],
    ['$system', 'system'],
    ['$env', 'env'],
    ['$scopes', 'scopes'],
  ];
  for (const [from, to] of roots) {
    if (path === from || path.startsWith(`${from}.`)) {
      // Names with dashes (header names) need index syntax in CEL.
      const rest = path.slice(from.length + 1);
      if (!rest) return to;
      return rest
        .split('.')
        .reduce((acc, part) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part) ? `${acc}.${part}` : `${acc}["${part}"]`), to);
    }
  }
  return null;
}

export function VariablePicker({
  groups,
  onPick,
  mode = 'template',
  label,
}: {
  groups: VariableGroup[];
  onPick: (text: string) => void;
  mode?: 'template' | 'cel';
  label: string;
}) {
  const shown = groups
    .map((g) => ({
      ...g,
      options: g.options
        .map((o) => ({ ...o, insert: mode === 'cel' ? celName(o.path) : template(o.path) }))
        .filter((o): o is typeof o & { insert: string } => o.insert !== null),
    }))
    .filter((g) => g.options.length > 0);
  return (
    <select
      className="picker"
      aria-label={`Insert variable into ${label}`}
      value=""
      onChange={(e) => {
        if (e.target.value) onPick(e.target.value);
      }}
    >
      <option value="">{'{x}'} Insert variable…</option>
      {shown.map((g) => (
        <optgroup key={g.label} label={g.label}>
          {g.options.map((o) => (
            <option key={o.path} value={o.insert}>
              {o.label}
            </option>
          ))}
        </optgroup>
      ))}
    </select>
  );
}

export function TemplateInput({
  label,
  value,
  onChange,
  groups,
  multiline = false,
  problems = [],
  mode = 'template',
  placeholder,
  hint,
  rows = 4,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  groups: VariableGroup[];
  multiline?: boolean;
  problems?: Problem[];
  mode?: 'template' | 'cel';
  placeholder?: string;
  hint?: string;
  rows?: number;
}) {
  const id = useId();
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  // Where the cursor goes once the inserted text is in the field.
  const caret = useRef<number | null>(null);
  const insert = (text: string) => {
    const field = ref.current;
    const start = field?.selectionStart ?? value.length;
    const end = field?.selectionEnd ?? value.length;
    caret.current = start + text.length;
    onChange(value.slice(0, start) + text + value.slice(end));
  };
  // In the commit that shows the new value: back in the field, just after what was inserted,
  // so typing goes on from there.
  useLayoutEffect(() => {
    const field = ref.current;
    if (caret.current === null || !field) return;
    field.focus();
    field.setSelectionRange(caret.current, caret.current);
    caret.current = null;
  }, [value]);
  const common = {
    id,
    ref,
    value,
    placeholder,
    onChange: (e: { target: { value: string } }) => onChange(e.target.value),
    ...describedBy(id, problems, hint),
    spellCheck: false,
  };
  return (
    <div className="field">
      <div className="field-label">
        <label htmlFor={id}>{label}</label>
        <VariablePicker groups={groups} onPick={insert} mode={mode} label={label} />
      </div>
      {multiline ? <textarea rows={rows} {...common} /> : <input type="text" {...common} />}
      <FieldFooter id={id} hint={hint} problems={problems} />
    </div>
  );
}
