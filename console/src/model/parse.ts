// Filling the variable tables from examples: the parse helpers give paths, these merge them.

import type { FieldRow } from './form';

/** The rows with every parsed key not yet in them appended (aliases and order kept). */
export function mergeParsed(rows: FieldRow[], keys: string[]): FieldRow[] {
  const have = new Set(rows.map((row) => row.key.trim()));
  const kept = rows.filter((row) => row.key.trim() !== '' || row.alias.trim() !== '');
  const added: FieldRow[] = [];
  for (const key of keys) {
    if (have.has(key)) continue;
    have.add(key);
    added.push({ key, alias: '' });
  }
  return [...kept, ...added];
}

/** Header names from pasted `Name: value` lines (as browsers' dev tools copy them). */
export function headerNames(example: string): string[] {
  const names: string[] = [];
  for (const line of example.split(/\r?\n/)) {
    const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:/.exec(line);
    if (!match) continue;
    const name = match[1];
    // The authorization header never reaches $context; config-api refuses it.
    if (name.toLowerCase() === 'authorization') continue;
    if (!names.some((n) => n.toLowerCase() === name.toLowerCase())) names.push(name);
  }
  return names;
}
