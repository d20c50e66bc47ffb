import { useCallback, useEffect, useState } from 'react';

import { api } from '../api';
import { CopyUrl, ErrorBanner, StatusBadge, Time, TableHead } from '../components/common';
import { Link } from '../components/Link';
import type { ExecutionSummary, Workflow } from '../model/types';
import { navigate } from '../router';

export function WorkflowList() {
  const [workflows, setWorkflows] = useState<Workflow[] | null>(null);
  const [latest, setLatest] = useState<Record<string, ExecutionSummary | null>>({});
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const items: Workflow[] = [];
      let cursor: string | null = null;
      do {
        const page = await api.listWorkflows(cursor);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      setWorkflows(items);
      const runs = await Promise.all(
        items.map((w) => api.listExecutions({ workflowId: w.id, limit: 1 }).then((p) => p.items[0] ?? null)),
      );
      setLatest(Object.fromEntries(items.map((w, i) => [w.id, runs[i]])));
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const toggle = async (workflow: Workflow) => {
    try {
      const changed = await api.setEnabled(workflow.id, !workflow.enabled);
      setWorkflows((list) => list?.map((w) => (w.id === changed.id ? { ...w, enabled: changed.enabled } : w)) ?? null);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <main className="page">
      <div className="page-head">
        <h1>Workflows</h1>
        <button type="button" className="primary" onClick={() => navigate('/workflows/new')}>
          New workflow
        </button>
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {workflows === null ? (
        <p className="muted">Loading…</p>
      ) : workflows.length === 0 ? (
        <p className="empty">No workflows yet. Create one with <strong>New workflow</strong>.</p>
      ) : (
        <table className="list">
          <TableHead columns={['Title', 'Mode', 'Enabled', 'Webhook URL', 'Latest execution']} />
          <tbody>
            {workflows.map((w) => {
              const run = latest[w.id];
              return (
                <tr key={w.id}>
                  <td>
                    <Link href={`/workflows/${w.id}`} className="title">
                      {w.title}
                    </Link>
                    <div className="muted small">version {w.version}</div>
                  </td>
                  <td>
                    <span className={`badge mode-${w.sync ? 'sync' : 'async'}`}>{w.sync ? 'sync' : 'async'}</span>
                  </td>
                  <td>
                    <label className="switch">
                      <input
                        type="checkbox"
                        role="switch"
                        checked={w.enabled}
                        onChange={() => void toggle(w)}
                        aria-label={`Enabled: ${w.title}`}
                      />
                      <span aria-hidden="true" />
                    </label>
                  </td>
                  <td>
                    <CopyUrl url={w.webhookUrl} />
                  </td>
                  <td>
                    {run ? (
                      <Link href={`/executions/${run.id}`}>
                        <StatusBadge status={run.status} /> <Time at={run.createdAt} />
                      </Link>
                    ) : run === null ? (
                      <span className="muted">none yet</span>
                    ) : (
                      <span className="muted">…</span>
                    )}
                    {' '}
                    <Link href={`/executions?workflowId=${w.id}`} className="small">
                      all runs
                    </Link>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </main>
  );
}
