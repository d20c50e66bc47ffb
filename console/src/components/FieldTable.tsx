// One table of declared trigger variables (key, alias) with its Parse example.

import { useId, useState } from 'react';

import type { FieldRow } from '../model/form';
import { mergeParsed } from '../model/parse';
import { problemsAt } from '../model/problems';
import type { Problem } from '../model/types';
import type { VariableGroup } from '../model/variables';
import { FieldProblems, errorText } from './common';
import { VariablePicker } from './TemplateInput';

export function FieldTable({
  title,
  rows,
  onChange,
  problems,
  path,
  parse,
  exampleLabel,
  examplePlaceholder,
  multiline = false,
  description,
}: {
  title: string;
  rows: FieldRow[];
  onChange: (rows: FieldRow[]) => void;
  problems: Problem[];
  /** Document path of the list, e.g. `trigger.request.query`. */
  path: string;
  parse: (example: string) => Promise<string[]>;
  exampleLabel: string;
  examplePlaceholder: string;
  multiline?: boolean;
  description: string;
}) {
  const id = useId();
  const [example, setExample] = useState('');
  const [parseError, setParseError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (index: number, change: Partial<FieldRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  const runParse = async () => {
    setBusy(true);
    setParseError(null);
    try {
      const keys = await parse(example);
      if (keys.length === 0) setParseError('The example holds no variables.');
      onChange(mergeParsed(rows, keys));
    } catch (error) {
      setParseError(errorText(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="field-table" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      <p className="hint">{description}</p>
      <FieldProblems problems={problemsAt(problems, path)} />
      <table>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Alias (display name)</th>
            <th scope="col">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No variables declared.
              </td>
            </tr>
          )}
          {rows.map((row, i) => {
            const keyProblems = problemsAt(problems, `${path}[${i}].key`);
            const rowProblems = [...problemsAt(problems, `${path}[${i}]`), ...problemsAt(problems, `${path}[${i}].alias`)];
            return (
              <tr key={i}>
                <td>
                  <input
                    aria-label={`${title} key ${i + 1}`}
                    value={row.key}
                    onChange={(e) => set(i, { key: e.target.value })}
                    aria-invalid={keyProblems.length > 0 ? true : undefined}
                    spellCheck={false}
                  />
                  <FieldProblems problems={keyProblems} />
                </td>
                <td>
                  <input
                    aria-label={`${title} alias ${i + 1}`}
                    value={row.alias}
                    onChange={(e) => set(i, { alias: e.target.value })}
                  />
                  <FieldProblems problems={rowProblems} />
                </td>
                <td>
                  <button
                    type="button"
                    className="icon"
                    aria-label={`Remove ${row.key || `row ${i + 1}`}`}
                    onClick={() => onChange(rows.filter((_, j) => j !== i))}
                  >
                    ✕
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button type="button" onClick={() => onChange([...rows, { key: '', alias: '' }])}>
        Add variable
      </button>
      <div className="parse">
        <label htmlFor={`${id}-example`}>{exampleLabel}</label>
        <div className="parse-row">
          {multiline ? (
            <textarea
              id={`${id}-example`}
              rows={3}
              value={example}
              placeholder={examplePlaceholder}
              onChange={(e) => setExample(e.target.value)}
              spellCheck={false}
            />
          ) : (
            <input
              id={`${id}-example`}
              value={example}
              placeholder={examplePlaceholder}
              onChange={(e) => setExample(e.target.value)}
              spellCheck={false}
            />
          )}
          <button type="button" onClick={() => void runParse()} disabled={busy || example.trim() === ''}>
            Parse
          </button>
        </div>
        {parseError && (
          <p className="error-text" role="alert">
            {parseError}
          </p>
        )}
      </div>
    </section>
  );
}

export function HeaderTable({
  title,
  rows,
  onChange,
  problems,
  path,
  groups,
  addLabel = 'Add header',
}: {
  title: string;
  rows: { name: string; value: string }[];
  onChange: (rows: { name: string; value: string }[]) => void;
  problems: Problem[];
  path: string;
  /** When given, each value has a variable picker (the values are templates). */
  groups?: VariableGroup[];
  addLabel?: string;
}) {
  const set = (index: number, change: Partial<{ name: string; value: string }>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  return (
    <fieldset className="header-table">
      <legend>{title}</legend>
      {rows.map((row, i) => (
        <div className="row" key={i}>
          <input
            aria-label={`${title} name ${i + 1}`}
            placeholder="Name"
            value={row.name}
            onChange={(e) => set(i, { name: e.target.value })}
          />
          {groups ? (
            <span className="operand">
              <input
                aria-label={`${title} value ${i + 1}`}
                placeholder="Value"
                value={row.value}
                onChange={(e) => set(i, { value: e.target.value })}
                spellCheck={false}
              />
              <VariablePicker groups={groups} label={`${title} value ${i + 1}`} onPick={(text) => set(i, { value: row.value + text })} />
            </span>
          ) : (
            <input
              aria-label={`${title} value ${i + 1}`}
              placeholder="Value"
              value={row.value}
              onChange={(e) => set(i, { value: e.target.value })}
            />
          )}
          <button type="button" className="icon" aria-label={`Remove row ${i + 1} of ${title}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
          <FieldProblems problems={[...problemsAt(problems, `${path}[${i}].name`), ...problemsAt(problems, `${path}[${i}].value`)]} />
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { name: '', value: '' }])}>
        {addLabel}
      </button>
    </fieldset>
  );
}
