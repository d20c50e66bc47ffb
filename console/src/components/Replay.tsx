// Replay: run a recorded request again, with the workflow's current version or the one that
// ran it; for one execution, or for a workflow's failed executions at once.

import { useId, useState } from 'react';

import { api } from '../api';
import type { BulkReplay, ReplayVersion } from '../model/types';
import { navigate } from '../router';
import { ErrorBanner } from './common';

function VersionChoice({ value, onChange, original }: { value: ReplayVersion; onChange: (v: ReplayVersion) => void; original: string }) {
  const id = useId();
  return (
    <span className="inline-field">
      <label htmlFor={id}>Replay with</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as ReplayVersion)}>
        <option value="current">the current version</option>
        <option value="original">{original}</option>
      </select>
    </span>
  );
}

/** The Replay of one execution; on success the console shows the new execution. */
export function ReplayExecution({ id, version }: { id: string; version: number }) {
  const [choice, setChoice] = useState<ReplayVersion>('current');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const replay = async () => {
    setBusy(true);
    setError(null);
    try {
      const replayed = await api.replayExecution(id, choice);
      navigate(`/executions/${replayed.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <div className="replay">
      <div className="actions">
        <VersionChoice value={choice} onChange={setChoice} original={`the version that ran it (${version})`} />
        <button type="button" className="primary" onClick={() => void replay()} disabled={busy}>
          {busy ? 'Replaying…' : 'Replay'}
        </button>
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
    </div>
  );
}

/** The bulk Replay of a workflow's failed executions (status error or failed). */
export function ReplayFailed({
  workflowId,
  title,
  onReplayed,
}: {
  workflowId: string | null;
  title: string | undefined;
  onReplayed: (result: BulkReplay) => void;
}) {
  const [choice, setChoice] = useState<ReplayVersion>('current');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const replay = async () => {
    if (!workflowId) return;
    const which = choice === 'current' ? 'its current version' : 'the versions that ran them';
    if (!window.confirm(`Replay the failed executions (error, failed) of “${title ?? workflowId}” with ${which}?`)) return;
    setBusy(true);
    setError(null);
    try {
      onReplayed(await api.replayFailed(workflowId, choice));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="replay">
      <div className="actions">
        <VersionChoice value={choice} onChange={setChoice} original="the versions that ran them" />
        <button
          type="button"
          onClick={() => void replay()}
          disabled={busy || !workflowId}
          title={workflowId ? undefined : 'Choose a workflow first'}
          aria-describedby={workflowId ? undefined : 'replay-needs-workflow'}
        >
          {busy ? 'Replaying…' : 'Replay failed executions'}
        </button>
        {!workflowId && (
          <span className="muted small" id="replay-needs-workflow">
            Choose a workflow to replay its failed executions.
          </span>
        )}
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
    </div>
  );
}
