// Every stored version of a workflow; one can be loaded into the editor and saved again.

import { useEffect, useState } from 'react';

import { api } from '../api';
import { ErrorBanner, JsonBlock, Time, TableHead } from '../components/common';
import type { Json, Version } from '../model/types';

export function VersionsView({ id, current, onLoad }: { id: string; current: number; onLoad: (version: Version) => void }) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [shown, setShown] = useState<Version | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const load = async () => {
      const all: Version[] = [];
      let cursor: string | null = null;
      do {
        const page = await api.listVersions(id, cursor);
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      setVersions(all.sort((a, b) => b.version - a.version));
    };
    load().catch(setError);
  }, [id, current]);

  return (
    <div className="versions card">
      <ErrorBanner error={error} />
      {versions === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <table className="list">
          <TableHead columns={['Version', 'Saved', 'Title', 'Nodes', '']} />
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} className={shown?.version === v.version ? 'selected' : undefined}>
                <td>
                  {v.version}
                  {v.version === current && <span className="badge">current</span>}
                </td>
                <td>
                  <Time at={v.createdAt} />
                </td>
                <td>{v.title}</td>
                <td>{v.nodes?.length ?? 0}</td>
                <td className="actions">
                  <button type="button" onClick={() => setShown(shown?.version === v.version ? null : v)}>
                    {shown?.version === v.version ? 'Hide' : 'Show'}
                  </button>
                  {v.version !== current && (
                    <button type="button" onClick={() => onLoad(v)}>
                      Load into editor
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && <JsonBlock value={shown as unknown as Json} label={`Version ${shown.version}`} />}
    </div>
  );
}
