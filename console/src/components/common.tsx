// Small pieces every screen uses: errors in words, status badges, times, JSON blocks.

import { useEffect, useState } from 'react';

import { ApiError } from '../api';
import type { Json, Problem } from '../model/types';

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="banner error" role="alert">
      <span>{errorText(error)}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}

/** The problems 422 named at one field. */
export function FieldProblems({ problems, id }: { problems: Problem[]; id?: string }) {
  if (problems.length === 0) return null;
  return (
    <ul className="field-problems" id={id} role="alert">
      {problems.map((p, i) => (
        <li key={i}>{p.message}</li>
      ))}
    </ul>
  );
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  if (!status) return <span className="muted">none yet</span>;
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={date.toISOString()}>
      {date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
    </time>
  );
}

export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return '—';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function JsonBlock({ value, label }: { value: Json | undefined; label?: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {value === undefined ? '—' : JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** Re-runs `tick` every `ms` while `active`. */
export function usePolling(active: boolean, ms: number, tick: () => void): void {
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(tick, ms);
    return () => window.clearInterval(timer);
  }, [active, ms, tick]);
}

/** Copies text to the clipboard; falls back to a selection copy where the API is missing. */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  document.body.appendChild(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('the browser refused to copy');
}

export function CopyUrl({ url }: { url: string }) {
  const [note, setNote] = useState('');
  const copy = async () => {
    try {
      await copyText(url);
      setNote('Copied');
    } catch (error) {
      setNote(`Could not copy: ${errorText(error)}`);
    }
    window.setTimeout(() => setNote(''), 2500);
  };
  return (
    <span className="copy-url">
      <code className="url">{url}</code>
      <button type="button" onClick={copy}>
        Copy URL
      </button>
      <span className="note" aria-live="polite">
        {note}
      </span>
    </span>
  );
}

/** The head of a list table; an empty name is a column of actions. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((name, i) => (
          <th scope="col" key={i}>
            {name || <span className="sr-only">Actions</span>}
          </th>
        ))}
      </tr>
    </thead>
  );
}
