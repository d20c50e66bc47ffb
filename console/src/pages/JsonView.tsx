// The whole document as JSON, for anything the forms do not cover.

import { useEffect, useState } from 'react';

import { FieldProblems } from '../components/common';
import { sectionProblems } from '../model/problems';
import type { Problem, WorkflowDocument } from '../model/types';

export function JsonView({
  doc,
  problems,
  onApply,
}: {
  doc: WorkflowDocument;
  problems: Problem[];
  onApply: (doc: WorkflowDocument) => void;
}) {
  const shown = JSON.stringify(doc, null, 2);
  const [text, setText] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  const edited = text !== shown;
  useEffect(() => {
    setText(shown);
  }, [shown]);

  const apply = () => {
    try {
      const parsed = JSON.parse(text) as WorkflowDocument;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the document must be a JSON object');
      onApply({ ...parsed, trigger: parsed.trigger ?? { type: 'webhook' }, nodes: parsed.nodes ?? [] });
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div className="json-view card">
      <p className="hint">
        The document Save sends. Anything the forms do not cover can be edited here; apply it to the forms, then
        save.
      </p>
      <FieldProblems problems={sectionProblems(problems, 'document', [])} />
      <label htmlFor="document-json" className="sr-only">
        Workflow document (JSON)
      </label>
      <textarea id="document-json" className="code" rows={28} value={text} spellCheck={false} onChange={(e) => setText(e.target.value)} />
      {error && (
        <p className="error-text" role="alert">
          Not applied: {error}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={apply} disabled={!edited}>
          Apply JSON
        </button>
        <button type="button" onClick={() => setText(shown)} disabled={!edited}>
          Discard changes
        </button>
      </div>
    </div>
  );
}
