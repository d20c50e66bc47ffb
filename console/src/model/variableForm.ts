// The variables page's form: what it starts with for a new or a stored variable, what it
// sends, and what it refuses before asking config-api. A secret's stored value is never in
// the form: the API answers "********" for it, and the form starts with an empty new value.

import { MASKED, type Variable } from './types';

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface VariableForm {
  /** `null`: a new variable; else the name of the stored one (names do not change). */
  editing: string | null;
  name: string;
  value: string;
  secret: boolean;
  /** Whether the stored variable is a secret (its value then cannot be shown). */
  wasSecret: boolean;
}

export function newVariableForm(): VariableForm {
  return { editing: null, name: '', value: '', secret: false, wasSecret: false };
}

/** The form for a stored variable: a plain value as it is, a secret's as an empty field. */
export function editVariableForm(variable: Variable): VariableForm {
  return {
    editing: variable.name,
    name: variable.name,
    value: variable.secret ? '' : displayValue(variable),
    secret: variable.secret,
    wasSecret: variable.secret,
  };
}

/** A plain variable's value as text; a secret's is never shown. */
export function displayValue(variable: Variable): string {
  if (variable.secret) return '';
  const value: unknown = variable.value;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Why the form cannot be sent, by field; empty when it can. */
export function variableFormProblems(form: VariableForm): { name?: string; value?: string } {
  const problems: { name?: string; value?: string } = {};
  if (form.editing === null) {
    if (form.name.trim() === '') problems.name = 'Give the variable a name.';
    else if (!VARIABLE_NAME.test(form.name.trim()))
      problems.name = 'A name starts with a letter or _ and holds only letters, digits and _.';
  }
  if (form.wasSecret && form.value === '') {
    problems.value = 'The stored secret cannot be shown or kept through this form: type the new value.';
  } else if (form.secret && form.value === MASKED) {
    problems.value = `“${MASKED}” is what the API shows for a secret; type the real value.`;
  }
  return problems;
}

/** What the form sends: `POST /api/variables` for a new one, `PUT /api/variables/{name}` else. */
export function variableRequest(form: VariableForm): { name: string; value: string; secret: boolean } {
  return { name: form.editing ?? form.name.trim(), value: form.value, secret: form.secret };
}
