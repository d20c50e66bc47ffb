// Execution history, newest first, filtered by workflow and status; live while any runs.

import { useCallback, useEffect, useState } from 'react';

import { api } from '../api';
import { ErrorBanner, StatusBadge, Time, duration, usePolling, TableHead } from '../components/common';
import { Link } from '../components/Link';
import { ReplayFailed } from '../components/Replay';
import { EXECUTION_STATUSES, isRunning, type BulkReplay, type ExecutionSummary, type Workflow } from '../model/types';
import { navigate } from '../router';

const POLL_MS = 2000;

export function ExecutionsPage({ workflowId, status }: { workflowId: string | null; status: string | null }) {
  const [items, setItems] = useState<ExecutionSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [updated, setUpdated] = useState<Date | null>(null);
  const [replayed, setReplayed] = useState<BulkReplay | null>(null);

  const filter = useCallback(
    (change: { workflowId?: string | null; status?: string | null }) => {
      const params = new URLSearchParams();
      const w = change.workflowId !== undefined ? change.workflowId : workflowId;
      const s = change.status !== undefined ? change.status : status;
      if (w) params.set('workflowId', w);
      if (s) params.set('status', s);
      const search = params.toString();
      navigate(`/executions${search ? `?${search}` : ''}`, true);
    },
    [workflowId, status],
  );

  const load = useCallback(async () => {
    try {
      const page = await api.listExecutions({ workflowId: workflowId ?? undefined, status: status ?? undefined, limit: 50 });
      // A refresh shows the newest page again (pages added with Load more are dropped).
      setItems(page.items);
      setNext(page.nextCursor);
      setUpdated(new Date());
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [workflowId, status]);

  useEffect(() => {
    setItems(null);
    void load();
  }, [load]);

  useEffect(() => {
    api.listWorkflows().then((page) => setWorkflows(page.items), setError);
  }, []);

  const running = (items ?? []).some((e) => isRunning(e.status));
  usePolling(running, POLL_MS, load);

  const more = async () => {
    if (!next) return;
    try {
      const page = await api.listExecutions({ workflowId: workflowId ?? undefined, status: status ?? undefined, limit: 50, cursor: next });
      setItems((current) => [...(current ?? []), ...page.items]);
      setNext(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  };

  const titles = new Map(workflows.map((w) => [w.id, w.title]));
  const fresh = new Set(replayed?.executionIds ?? []);

  const afterReplay = (result: BulkReplay) => {
    setReplayed(result);
    // The replays are queued: show every status so that they are in the list.
    if (status) filter({ status: null });
    else void load();
  };

  return (
    <main className="page">
      <div className="page-head">
        <h1>Executions</h1>
        <div className="actions">
          <span className="muted small" aria-live="polite">
            {running ? 'Live: refreshing while executions run' : updated ? `Updated ${updated.toLocaleTimeString()}` : ''}
          </span>
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>
        </div>
      </div>
      <div className="filters">
        <label>
          Workflow
          <select value={workflowId ?? ''} onChange={(e) => filter({ workflowId: e.target.value || null })}>
            <option value="">All workflows</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.title}
              </option>
            ))}
            {workflowId && !titles.has(workflowId) && <option value={workflowId}>{workflowId}</option>}
          </select>
        </label>
        <label>
          Status
          <select value={status ?? ''} onChange={(e) => filter({ status: e.target.value || null })}>
            <option value="">Any status</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <ReplayFailed workflowId={workflowId} title={workflowId ? titles.get(workflowId) : undefined} onReplayed={afterReplay} />
      </div>
      {replayed && (
        <div className="banner ok" role="status">
          <div>
            {replayed.queued === 0 ? (
              'No failed executions to replay.'
            ) : (
              <>
                Queued {replayed.queued} replay{replayed.queued === 1 ? '' : 's'}:{' '}
                {replayed.executionIds.slice(0, 10).map((id, i) => (
                  <span key={id}>
                    {i > 0 && ', '}
                    {/* Ids made close together share their first digits (time-ordered), not their last. */}
                    <Link href={`/executions/${id}`} className="mono small" title={id}>
                      …{id.slice(-12)}
                    </Link>
                  </span>
                ))}
                {replayed.executionIds.length > 10 && ` and ${replayed.executionIds.length - 10} more`} (marked below).
              </>
            )}
          </div>
          <button type="button" className="link" onClick={() => setReplayed(null)}>
            Dismiss
          </button>
        </div>
      )}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p className="empty">No executions{status ? ` with status ${status}` : ''} yet. Call the webhook URL to start one.</p>
      ) : (
        <table className="list">
          <TableHead columns={['Started', 'Workflow', 'Status', 'Duration', 'Execution']} />
          <tbody>
            {items.map((e) => (
              <tr key={e.id} className={fresh.has(e.id) ? 'selected' : undefined}>
                <td>
                  <Link href={`/executions/${e.id}`}>
                    <Time at={e.createdAt} />
                  </Link>
                </td>
                <td>
                  <Link href={`/workflows/${e.workflowId}`}>{titles.get(e.workflowId) ?? e.workflowId.slice(0, 8)}</Link>{' '}
                  <span className="muted small">v{e.version}</span>
                </td>
                <td>
                  <StatusBadge status={e.status} />
                  {e.replayOf && <span className="badge">replay</span>}
                  {e.error && <div className="error-text small">{e.error}</div>}
                </td>
                <td>{duration(e.createdAt, e.finishedAt)}</td>
                <td>
                  <Link href={`/executions/${e.id}`} className="mono small">
                    {e.id}
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => void more()}>
          Load more
        </button>
      )}
    </main>
  );
}
