// One execution: what came in, what went out, and every node's job in flow order.

import { useCallback, useEffect, useState } from 'react';

import { api } from '../api';
import { ErrorBanner, JsonBlock, StatusBadge, Time, duration, usePolling } from '../components/common';
import { Link } from '../components/Link';
import { ReplayExecution } from '../components/Replay';
import { iterationText, jobsInFlowOrder } from '../model/jobs';
import { isRunning, type Execution, type Json, type Version } from '../model/types';
import { nodeType } from '../nodes';

export function ExecutionPage({ id }: { id: string }) {
  const [execution, setExecution] = useState<Execution | null>(null);
  const [version, setVersion] = useState<Version | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      setExecution(await api.getExecution(id));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  const workflowId = execution?.workflowId;
  const versionNumber = execution?.version;
  useEffect(() => {
    if (!workflowId || versionNumber === undefined) return;
    // The version may be gone with its workflow; the jobs are still shown, in run order.
    api.getVersion(workflowId, versionNumber).then(setVersion, () => setVersion(null));
  }, [workflowId, versionNumber]);

  usePolling(execution !== null && isRunning(execution.status), 1500, load);

  if (!execution) {
    return (
      <main className="page">
        <ErrorBanner error={error} />
        {!error && <p className="muted">Loading…</p>}
      </main>
    );
  }

  const jobs = jobsInFlowOrder(execution.jobs, version?.nodes ?? []);
  const context = execution.context ?? {};
  return (
    <main className="page execution">
      <div className="page-head">
        <div className="head-title">
          <Link href={`/executions?workflowId=${execution.workflowId}`} className="small">
            ← Executions
          </Link>
          <h1>
            Execution <StatusBadge status={execution.status} />
          </h1>
          <span className="muted small mono">{execution.id}</span>
        </div>
        <ReplayExecution id={execution.id} version={execution.version} />
      </div>
      <ErrorBanner error={error} />
      <dl className="facts card">
        <div>
          <dt>Workflow</dt>
          <dd>
            <Link href={`/workflows/${execution.workflowId}`}>{version?.title ?? execution.workflowId}</Link> (version {execution.version})
          </dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd>
            <Time at={execution.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            <Time at={execution.finishedAt} />
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(execution.createdAt, execution.finishedAt)}</dd>
        </div>
        <div>
          <dt>Deliveries</dt>
          <dd>{execution.attempts}</dd>
        </div>
        {execution.replayOf && (
          <div>
            <dt>Replay of</dt>
            <dd>
              <Link href={`/executions/${execution.replayOf}`} className="mono small">
                {execution.replayOf}
              </Link>
            </dd>
          </div>
        )}
        {execution.error && (
          <div className="wide">
            <dt>Error</dt>
            <dd className="error-text">{execution.error}</dd>
          </div>
        )}
      </dl>
      {isRunning(execution.status) && (
        <p className="banner" role="status">
          Still running; this page refreshes until it ends.
        </p>
      )}

      <section className="card" aria-labelledby="jobs-title">
        <h2 id="jobs-title">Node jobs</h2>
        {jobs.length === 0 ? (
          <p className="muted">No node ran{isRunning(execution.status) ? ' yet' : ''}.</p>
        ) : (
          <ol className="jobs">
            {jobs.map(({ job, node, depth }, i) => (
              <li key={i} className={`job status-${job.status}`} style={{ marginLeft: `${depth * 1.5}rem` }}>
                <div className="job-head">
                  <StatusBadge status={job.status} />
                  <strong>{node?.title || job.nodeKey}</strong>
                  <span className="muted small">
                    {nodeType(job.nodeType)?.label ?? job.nodeType} · key <code>{job.nodeKey}</code>
                    {iterationText(job.iteration) && <> · <span className="iteration">{iterationText(job.iteration)}</span></>}
                  </span>
                  <span className="muted small">{duration(job.startedAt, job.finishedAt)}</span>
                </div>
                {job.status === 'aborted' && (
                  <p className="hint">Stopped before it finished: its branch was no longer needed, or the execution timed out.</p>
                )}
                <JsonBlock value={job.result ?? null} label={`Result of ${job.nodeKey}${iterationText(job.iteration) ? ` (${iterationText(job.iteration)})` : ''}`} />
              </li>
            ))}
          </ol>
        )}
      </section>

      <div className="two-columns">
        <section className="card" aria-labelledby="request-title">
          <h2 id="request-title">Request</h2>
          <h3>Headers</h3>
          <JsonBlock value={(context.headers as Json) ?? {}} label="Request headers" />
          <h3>Query</h3>
          <JsonBlock value={(context.query as Json) ?? {}} label="Request query" />
          <h3>Body</h3>
          <JsonBlock value={(context.raw as Json) ?? (context.body as Json) ?? {}} label="Request body" />
        </section>
        <section className="card" aria-labelledby="response-title">
          <h2 id="response-title">Response</h2>
          {execution.response === null || execution.response === undefined ? (
            <p className="muted">No response recorded (async workflows answer with the trigger's configured response).</p>
          ) : (
            <JsonBlock value={execution.response} label="Recorded response" />
          )}
        </section>
      </div>
    </main>
  );
}
