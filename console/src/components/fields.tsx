// Labelled inputs that show the problems config-api named at their path.

import { useId, type ReactNode } from 'react';

import type { Problem } from '../model/types';
import { FieldProblems } from './common';

/** The ARIA attributes that tie an input to its problems (or else its hint). */
export function describedBy(id: string, problems: Problem[], hint: unknown) {
  return {
    'aria-invalid': problems.length > 0 ? true : undefined,
    'aria-describedby': problems.length > 0 ? `${id}-problems` : hint ? `${id}-hint` : undefined,
  } as const;
}

/** What stands under an input: its hint and the problems config-api named there. */
export function FieldFooter({ id, hint, problems }: { id: string; hint?: ReactNode; problems: Problem[] }) {
  return (
    <>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <FieldProblems problems={problems} id={`${id}-problems`} />
    </>
  );
}

export function TextField({
  label,
  value,
  onChange,
  problems = [],
  type = 'text',
  placeholder,
  hint,
  inputMode,
  autoFocus,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  problems?: Problem[];
  type?: 'text' | 'password' | 'number';
  placeholder?: string;
  hint?: ReactNode;
  inputMode?: 'numeric' | 'text';
  autoFocus?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        placeholder={placeholder}
        inputMode={inputMode}
        autoFocus={autoFocus}
        onChange={(e) => onChange(e.target.value)}
        {...describedBy(id, problems, hint)}
      />
      <FieldFooter id={id} hint={hint} problems={problems} />
    </div>
  );
}

export function SelectField<T extends string>({
  label,
  value,
  options,
  onChange,
  problems = [],
}: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
  problems?: Problem[];
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value as T)}
        aria-invalid={problems.length > 0 ? true : undefined}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldProblems problems={problems} />
    </div>
  );
}

export function CheckField({
  label,
  checked,
  onChange,
  hint,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: string;
}) {
  return (
    <div className="field check">
      <label>
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
      </label>
      {hint && <p className="hint">{hint}</p>}
    </div>
  );
}
