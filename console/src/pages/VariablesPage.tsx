// The `$env` variables and secrets every workflow can use as {{$env.NAME}}: list, create,
// edit, delete. A secret's value is never shown, not even as the API's mask.

import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';

import { ApiError, api, listAll } from '../api';
import { ErrorBanner, TableHead, Time } from '../components/common';
import { CheckField, TextField } from '../components/fields';
import { displayValue, editVariableForm, newVariableForm, variableFormProblems, variableRequest, type VariableForm } from '../model/variableForm';
import type { Problem, Variable } from '../model/types';

function VariableEditor({
  initial,
  onSaved,
  onCancel,
}: {
  initial: VariableForm;
  onSaved: (variable: Variable, created: boolean) => void;
  onCancel: () => void;
}) {
  const titleId = useId();
  const [form, setForm] = useState(initial);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [serverProblems, setServerProblems] = useState<Problem[]>([]);
  const local = tried ? variableFormProblems(form) : {};
  const at = (field: 'name' | 'value' | 'secret') => [
    ...(local[field as 'name' | 'value'] ? [{ path: field, message: local[field as 'name' | 'value'] as string }] : []),
    ...serverProblems.filter((p) => p.path === field),
  ];

  const save = async () => {
    setTried(true);
    if (Object.keys(variableFormProblems(form)).length > 0) return;
    setBusy(true);
    setError(null);
    setServerProblems([]);
    const { name, value, secret } = variableRequest(form);
    try {
      const saved = form.editing === null ? await api.createVariable({ name, value, secret }) : await api.updateVariable(name, { value, secret });
      onSaved(saved, form.editing === null);
    } catch (err) {
      if (err instanceof ApiError && err.problems.length > 0) setServerProblems(err.problems);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="card variable-form"
      aria-labelledby={titleId}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <h2 id={titleId}>{form.editing === null ? 'New variable' : `Edit ${form.editing}`}</h2>
      <ErrorBanner error={error} />
      <div className="row-fields">
        {form.editing === null ? (
          <TextField
            label="Name"
            value={form.name}
            onChange={(name) => setForm({ ...form, name })}
            problems={at('name')}
            placeholder="SHOP_API_TOKEN"
            hint={form.name.trim() ? <>Used as <code>{`{{$env.${form.name.trim()}}}`}</code></> : 'Letters, digits and _.'}
            autoFocus
          />
        ) : (
          <div className="field">
            <span className="field-label">Name</span>
            <code className="plain-value">{form.editing}</code>
            <p className="hint">
              Used as <code>{`{{$env.${form.editing}}}`}</code>
            </p>
          </div>
        )}
        <TextField
          label={form.wasSecret ? 'New value' : 'Value'}
          type={form.secret ? 'password' : 'text'}
          value={form.value}
          onChange={(value) => setForm({ ...form, value })}
          problems={at('value')}
          autoFocus={form.editing !== null}
          hint={form.wasSecret ? 'The stored value is secret and is never shown; saving replaces it.' : undefined}
        />
      </div>
      <CheckField
        label="Secret"
        checked={form.secret}
        onChange={(secret) => setForm({ ...form, secret })}
        hint="Encrypted at rest, never shown again, and masked as ******** in execution records and logs."
      />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save variable'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function VariablesPage() {
  const [variables, setVariables] = useState<Variable[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<VariableForm | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const opener = useRef<HTMLElement | null>(null);

  const load = useCallback(async () => {
    try {
      const items = await listAll(api.listVariables);
      setVariables(items.sort((a, b) => a.name.localeCompare(b.name)));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const open = (form: VariableForm) => {
    opener.current = document.activeElement as HTMLElement | null;
    setNotice(null);
    setEditing(form);
  };
  const close = () => setEditing(null);
  // Back to the button that opened the form, for keyboard users: in the same commit that removes
  // the form, so the focus is never left on the page body in between.
  useLayoutEffect(() => {
    if (editing === null && opener.current) {
      opener.current.focus();
      opener.current = null;
    }
  }, [editing]);

  const remove = async (variable: Variable) => {
    if (!window.confirm(`Delete ${variable.name}? Workflows that use {{$env.${variable.name}}} get nothing for it from now on.`)) return;
    try {
      await api.deleteVariable(variable.name);
      if (editing?.editing === variable.name) setEditing(null);
      await load();
      setNotice(`Deleted ${variable.name}.`);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <main className="page">
      <div className="page-head">
        <div className="head-title">
          <h1>Variables</h1>
          <span className="muted small">
            Values every workflow can use as <code>{'{{$env.NAME}}'}</code> (in CEL: <code>env.NAME</code>). Changes apply to executions
            that start afterwards.
          </span>
        </div>
        <button type="button" className="primary" onClick={() => open(newVariableForm())}>
          New variable
        </button>
      </div>
      {notice && (
        <div className="banner ok" role="status">
          {notice}
        </div>
      )}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {editing && (
        <VariableEditor
          key={editing.editing ?? '(new)'}
          initial={editing}
          onCancel={close}
          onSaved={(saved, created) => {
            setNotice(`${created ? 'Created' : 'Saved'} ${saved.name}${saved.secret ? ' (secret)' : ''}.`);
            close();
            void load();
          }}
        />
      )}
      {variables === null ? (
        !error && <p className="muted">Loading…</p>
      ) : variables.length === 0 ? (
        <p className="empty">
          No variables yet. Create one with <strong>New variable</strong>; mark it secret for tokens and passwords.
        </p>
      ) : (
        <table className="list">
          <TableHead columns={['Name', 'Value', 'Updated', '']} />
          <tbody>
            {variables.map((v) => (
              <tr key={v.name} className={editing?.editing === v.name ? 'selected' : undefined}>
                <td>
                  <code>{v.name}</code>
                </td>
                <td>
                  {v.secret ? (
                    <span className="badge secret" title="A secret's value is never shown">
                      secret, hidden
                    </span>
                  ) : (
                    <code className="plain-value">{displayValue(v)}</code>
                  )}
                </td>
                <td>
                  <Time at={v.updatedAt ?? v.createdAt} />
                </td>
                <td className="row-actions">
                  <button type="button" onClick={() => open(editVariableForm(v))} aria-label={`Edit ${v.name}`}>
                    Edit
                  </button>
                  <button type="button" className="danger" onClick={() => void remove(v)} aria-label={`Delete ${v.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
