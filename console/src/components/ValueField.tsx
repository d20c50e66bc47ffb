// A field for a templated JSON value (a response body, a request's data): edited as text,
// written to the document whenever the text means something (JSON, or plain text).

import { useState } from 'react';

import { textToValue, valueToText } from '../model/form';
import type { Json, Problem } from '../model/types';
import type { VariableGroup } from '../model/variables';
import { TemplateInput } from './TemplateInput';

export function ValueField({
  label,
  value,
  onChange,
  groups,
  problems,
  placeholder,
  rows = 6,
  hint,
}: {
  label: string;
  value: Json | undefined;
  onChange: (value: Json | undefined) => void;
  groups: VariableGroup[];
  /** Problems config-api named at this value (or inside it). */
  problems: Problem[];
  placeholder?: string;
  rows?: number;
  hint?: string;
}) {
  // The text is the field's own; the forms are remounted for another node, so it starts
  // from the document's value and typing keeps what was typed even while it does not parse.
  const [text, setText] = useState(() => valueToText(value));
  const parsed = textToValue(text);
  return (
    <TemplateInput
      label={label}
      multiline
      rows={rows}
      value={text}
      onChange={(next) => {
        setText(next);
        const meaning = textToValue(next);
        if ('value' in meaning) onChange(meaning.value);
      }}
      groups={groups}
      placeholder={placeholder}
      hint={hint}
      problems={[...problems, ...('error' in parsed ? [{ path: '', message: parsed.error }] : [])]}
    />
  );
}
