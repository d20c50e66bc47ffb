// One workflow: trigger, nodes, JSON and versions; Save stores a new version.

import { useCallback, useEffect, useMemo, useState } from 'react';

import { ApiError, api, listAll } from '../api';
import { ErrorBanner, FieldProblems } from '../components/common';
import { CheckField, TextField } from '../components/fields';
import { Link } from '../components/Link';
import { freshKey, getChain, getNode, insertNode, moveNode, nodePath, removeNode, splitNodePath, updateNode } from '../model/chain';
import { emptyDocument, toDocument, toForm, type FormModel } from '../model/form';
import { describePath, problemCounts, problemTarget, problemsAt, type Section } from '../model/problems';
import type { Problem, Workflow } from '../model/types';
import type { EnvName } from '../model/variables';
import { newNode } from '../nodes';
import { navigate } from '../router';
import { JsonView } from './JsonView';
import { NodeCanvas } from './NodeCanvas';
import { NodePanel } from './NodePanel';
import { TriggerForm } from './TriggerForm';
import { VersionsView } from './VersionsView';

type Tab = 'trigger' | 'nodes' | 'json' | 'versions';

/** A message that survives the navigation from /workflows/new to the saved workflow. */
let flash: string | null = null;

export function WorkflowEditor({ id }: { id: string | null }) {
  const [workflow, setWorkflow] = useState<Workflow | null>(null);
  const [form, setForm] = useState<FormModel | null>(id ? null : toForm(emptyDocument()));
  const [tab, setTab] = useState<Tab>('trigger');
  const [selected, setSelected] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(() => {
    const message = flash;
    flash = null;
    return message;
  });
  const [saving, setSaving] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [env, setEnv] = useState<EnvName[]>([]);

  useEffect(() => {
    // The pickers offer the $env variables; without them the editor works all the same.
    listAll(api.listVariables).then(
      (variables) => setEnv(variables.map(({ name, secret }) => ({ name, secret }))),
      () => setEnv([]),
    );
  }, []);

  useEffect(() => {
    if (!id) return;
    api.getWorkflow(id).then(
      (loaded) => {
        setWorkflow(loaded);
        setForm(toForm(loaded));
      },
      setError,
    );
  }, [id]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const change = useCallback((update: Partial<FormModel> | ((form: FormModel) => FormModel)) => {
    setForm((current) => (current ? (typeof update === 'function' ? update(current) : { ...current, ...update }) : current));
    setDirty(true);
    setNotice(null);
  }, []);

  const doc = useMemo(() => (form ? toDocument(form) : null), [form]);
  const counts = problemCounts(problems);

  if (!form || !doc) {
    return (
      <main className="page">
        <ErrorBanner error={error} />
        {!error && <p className="muted">Loading…</p>}
      </main>
    );
  }

  const save = async () => {
    setSaving(true);
    setError(null);
    setNotice(null);
    try {
      const saved = id ? await api.updateWorkflow(id, doc) : await api.createWorkflow(doc);
      setProblems([]);
      setDirty(false);
      if (!id) {
        flash = `Created “${saved.title}” (version ${saved.version}).`;
        navigate(`/workflows/${saved.id}`, true);
        return;
      }
      setWorkflow(saved);
      setForm(toForm(saved));
      setNotice(`Saved version ${saved.version}.`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.problems.length > 0) {
        // The problems region says it all; no second banner.
        setProblems(err.problems);
        goTo(err.problems[0]);
      } else {
        setError(err);
      }
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!id || !workflow) return;
    if (!window.confirm(`Delete “${workflow.title}”? Its webhook URL will answer 404 from now on.`)) return;
    try {
      await api.deleteWorkflow(id);
      setDirty(false);
      navigate('/');
    } catch (err) {
      setError(err);
    }
  };

  const goTo = (problem: Problem) => {
    const target = problemTarget(problem.path);
    const sections: Record<Section, Tab> = { general: 'trigger', trigger: 'trigger', nodes: 'nodes', document: 'json' };
    setTab(sections[target.section]);
    if (target.node) setSelected(target.node);
  };

  const actions = {
    add: (chain: string, index: number, type: string) => {
      change((f) => ({ ...f, nodes: insertNode(f.nodes, chain, index, newNode(type, freshKey(f.nodes, type))) }));
      setSelected(nodePath(chain, index));
    },
    remove: (path: string) => {
      const node = getNode(form.nodes, path);
      const inner = Object.values(node?.branches ?? {}).reduce((n, b) => n + b.length, 0);
      if (inner > 0 && !window.confirm(`Remove ${node?.key} and the ${inner} node(s) in its branches?`)) return;
      change((f) => ({ ...f, nodes: removeNode(f.nodes, path) }));
      setSelected(null);
    },
    move: (path: string, delta: -1 | 1) => {
      change((f) => ({ ...f, nodes: moveNode(f.nodes, path, delta) }));
      const { chain, index } = splitNodePath(path);
      const count = getChain(form.nodes, chain)?.length ?? 0;
      const target = Math.max(0, Math.min(index + delta, count - 1));
      setSelected(nodePath(chain, target));
    },
    select: (path: string) => setSelected(path),
  };
  const selectedNode = selected ? getNode(form.nodes, selected) : undefined;

  const tabs: { id: Tab; label: string; count?: number }[] = [
    { id: 'trigger', label: 'Trigger', count: counts.trigger },
    { id: 'nodes', label: 'Nodes', count: counts.nodes },
    { id: 'json', label: 'JSON', count: counts.document },
    ...(id ? [{ id: 'versions' as Tab, label: 'Versions' }] : []),
  ];

  return (
    <main className="page editor">
      <div className="page-head">
        <div className="head-title">
          <Link href="/" className="small">
            ← Workflows
          </Link>
          <h1>{id ? form.title || workflow?.title : 'New workflow'}</h1>
          {workflow && (
            <span className="muted small">
              version {workflow.version} · key <code>{workflow.key}</code>
            </span>
          )}
        </div>
        <div className="actions">
          {id && (
            <Link href={`/executions?workflowId=${id}`} className="button">
              Executions
            </Link>
          )}
          {id && (
            <button type="button" className="danger" onClick={() => void remove()}>
              Delete
            </button>
          )}
          <button type="button" className="primary" onClick={() => void save()} disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </div>
      {notice && (
        <div className="banner ok" role="status">
          {notice}
        </div>
      )}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {problems.length > 0 && (
        <div className="banner problems" role="region" aria-label="Problems">
          <p>config-api refused the workflow; fix these and save again:</p>
          <ul>
            {problems.map((p, i) => (
              <li key={i}>
                <button type="button" className="link" onClick={() => goTo(p)}>
                  {describePath(p.path)}
                </button>
                : {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="general card">
        <TextField
          label="Title"
          value={form.title}
          onChange={(title) => change({ title })}
          problems={problemsAt(problems, 'title')}
          autoFocus={!id}
        />
        <CheckField label="Enabled" checked={form.enabled} onChange={(enabled) => change({ enabled })} hint="A disabled workflow's URL answers 404." />
        <FieldProblems problems={[...problemsAt(problems, 'enabled'), ...problemsAt(problems, 'sync')]} />
      </div>
      <div
        className="tabs"
        role="tablist"
        aria-label="Editor sections"
        onKeyDown={(e) => {
          // Arrow keys move between tabs, as in every tab list.
          if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
          const at = tabs.findIndex((t) => t.id === tab);
          const next = tabs[(at + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
          setTab(next.id);
          document.getElementById(`tab-${next.id}`)?.focus();
        }}
      >
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
          >
            {t.label}
            {t.count ? <span className="badge status-error">{t.count}</span> : null}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === 'trigger' && (
          <TriggerForm form={form} onChange={change} problems={problems} doc={doc} webhookUrl={workflow?.webhookUrl ?? null} />
        )}
        {tab === 'nodes' && (
          <div className="nodes-layout">
            <NodeCanvas nodes={form.nodes} sync={form.sync} selected={selected} problems={problems} {...actions} />
            {selected && selectedNode && (
              <NodePanel
                key={selected}
                node={selectedNode}
                path={selected}
                doc={doc}
                problems={problems}
                env={env}
                onChange={(node) => change((f) => ({ ...f, nodes: updateNode(f.nodes, selected, () => node) }))}
                onClose={() => setSelected(null)}
              />
            )}
          </div>
        )}
        {tab === 'json' && (
          <JsonView
            doc={doc}
            problems={problems}
            onApply={(next) => {
              change(() => toForm(next));
              setSelected(null);
            }}
          />
        )}
        {tab === 'versions' && id && (
          <VersionsView
            id={id}
            current={workflow?.version ?? 0}
            onLoad={(version) => {
              change(() => toForm(version));
              setNotice(`Loaded version ${version.version} into the editor; Save makes it the current version.`);
              setTab('trigger');
            }}
          />
        )}
      </div>
    </main>
  );
}
