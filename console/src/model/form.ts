// The editor's form model: the document as the forms edit it (text fields as text, basic
// authentication as a switch), and back. Whatever the forms do not cover (signature, rate
// limit, further options) is kept in `rest` and written back untouched.

import type { FieldSpec, HeaderSpec, Json, JsonObject, WorkflowDocument, WorkflowNode } from './types';

export interface FieldRow {
  key: string;
  alias: string;
}

export interface HeaderRow {
  name: string;
  value: string;
}

/** An answer as the forms edit it; an empty status means the default (200). */
export interface ResponseForm {
  statusCode: string;
  headers: HeaderRow[];
  body: string;
}

export interface FormModel {
  title: string;
  sync: boolean;
  enabled: boolean;
  basicAuth: { enabled: boolean; username: string; password: string };
  headers: FieldRow[];
  query: FieldRow[];
  body: FieldRow[];
  /** The async answer. */
  response: ResponseForm;
  /** The sync timeout in milliseconds; empty means the default. */
  timeout: string;
  /** The sync answer when the timeout passed (`options.timeoutResponse`); off: 408. */
  timeoutResponse: ResponseForm & { enabled: boolean };
  nodes: WorkflowNode[];
  /** Document, trigger and option fields the forms do not edit. */
  rest: { document: JsonObject; trigger: JsonObject; options: JsonObject };
}

export const DEFAULT_TIMEOUT_MS = 30000;

const DOCUMENT_FIELDS = ['title', 'sync', 'enabled', 'trigger', 'options', 'nodes'];
/** What config-api adds to a document when it answers with a workflow or a version. */
const RECORD_FIELDS = ['id', 'key', 'version', 'webhookUrl', 'createdAt', 'updatedAt'];
const TRIGGER_FIELDS = ['basicAuthentication', 'request', 'response'];
const OPTION_FIELDS = ['timeout', 'timeoutResponse'];

function without(object: JsonObject | undefined, fields: string[]): JsonObject {
  return Object.fromEntries(Object.entries(object ?? {}).filter(([name]) => !fields.includes(name)));
}

/** A JSON value as a text field shows it: strings as they are, anything else as JSON. */
export function valueToText(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return looksLikeJson(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value, null, 2);
}

function looksLikeJson(text: string): boolean {
  return /^\s*[{["]/.test(text) || /^\s*(-?\d|true\b|false\b|null\b)/.test(text);
}

/**
 * What a body field's text means: JSON when it looks like JSON (an object, array, quoted
 * string, number, boolean or null), else the text itself. Text that starts like JSON but
 * does not parse is an error.
 */
export function textToValue(text: string): { value: Json | undefined } | { error: string } {
  if (text.trim() === '') return { value: undefined };
  if (!looksLikeJson(text)) return { value: text };
  try {
    return { value: JSON.parse(text) as Json };
  } catch (error) {
    if (/^\s*[{["]/.test(text)) return { error: `not valid JSON: ${(error as Error).message}` };
    return { value: text };
  }
}

function rows(specs: FieldSpec[] | undefined): FieldRow[] {
  return (specs ?? []).map((spec) => ({ key: spec.key, alias: spec.alias ?? '' }));
}

function specs(rows: FieldRow[]): FieldSpec[] {
  return rows
    .filter((row) => row.key.trim() !== '' || row.alias.trim() !== '')
    .map((row) => (row.alias.trim() ? { key: row.key.trim(), alias: row.alias.trim() } : { key: row.key.trim() }));
}

function responseToForm(response: { statusCode?: unknown; headers?: HeaderSpec[]; body?: Json } | undefined): ResponseForm {
  return {
    statusCode: response?.statusCode === undefined || response.statusCode === null ? '' : String(response.statusCode),
    headers: (Array.isArray(response?.headers) ? response.headers : []).map((h: HeaderSpec) => ({ name: h.name, value: h.value })),
    body: valueToText(response?.body),
  };
}

function formToResponse(form: ResponseForm): JsonObject {
  const response: JsonObject = {};
  const status = numberOrText(form.statusCode);
  if (status !== undefined) response.statusCode = status;
  const headers = form.headers.filter((h) => h.name.trim() !== '');
  if (headers.length > 0) response.headers = headers.map((h) => ({ name: h.name.trim(), value: h.value }));
  const body = textToValue(form.body);
  // An unparseable body is sent as text; the form shows why it is not JSON.
  const bodyValue = 'value' in body ? body.value : form.body;
  if (bodyValue !== undefined) response.body = bodyValue;
  return response;
}

export function emptyDocument(): WorkflowDocument {
  return {
    title: '',
    sync: false,
    enabled: true,
    trigger: { type: 'webhook', request: { headers: [], query: [], body: [] }, response: {} },
    nodes: [],
  };
}

/** The form model of a document (or of a workflow or version record: its record fields go). */
export function toForm(doc: WorkflowDocument): FormModel {
  const trigger = doc.trigger ?? { type: 'webhook' };
  const auth = trigger.basicAuthentication;
  const timeoutResponse = doc.options?.timeoutResponse as { statusCode?: unknown; headers?: HeaderSpec[]; body?: Json } | undefined;
  return {
    title: doc.title ?? '',
    sync: Boolean(doc.sync),
    enabled: doc.enabled ?? true,
    basicAuth: auth
      ? { enabled: true, username: auth.username, password: auth.password }
      : { enabled: false, username: '', password: '' },
    headers: rows(trigger.request?.headers),
    query: rows(trigger.request?.query),
    body: rows(trigger.request?.body),
    response: responseToForm(trigger.response),
    timeout: doc.options?.timeout === undefined ? '' : String(doc.options.timeout),
    timeoutResponse: {
      enabled: timeoutResponse !== undefined && timeoutResponse !== null && typeof timeoutResponse === 'object',
      ...responseToForm(timeoutResponse ?? undefined),
    },
    nodes: doc.nodes ?? [],
    rest: {
      document: without(doc as unknown as JsonObject, [...DOCUMENT_FIELDS, ...RECORD_FIELDS]),
      trigger: without(trigger as unknown as JsonObject, [...TRIGGER_FIELDS]),
      options: without(doc.options as JsonObject | undefined, OPTION_FIELDS),
    },
  };
}

/** A number field's text as the document holds it: a number when it is one, else the text
 * (so that config-api names the problem instead of the console dropping the value). */
export function numberOrText(text: string): Json | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** A config value in a plain text field. */
export function fieldText(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

export function toDocument(form: FormModel): WorkflowDocument {
  const response = formToResponse(form.response);

  const options: JsonObject = { ...form.rest.options };
  const timeout = numberOrText(form.timeout);
  if (form.sync && timeout !== undefined) options.timeout = timeout;
  // Only a sync caller waits; an async workflow keeps neither setting.
  if (form.sync && form.timeoutResponse.enabled) options.timeoutResponse = formToResponse(form.timeoutResponse);

  const doc = {
    ...form.rest.document,
    title: form.title,
    sync: form.sync,
    enabled: form.enabled,
    trigger: {
      type: 'webhook',
      ...form.rest.trigger,
      basicAuthentication: form.basicAuth.enabled
        ? { username: form.basicAuth.username, password: form.basicAuth.password }
        : false,
      request: { headers: specs(form.headers), query: specs(form.query), body: specs(form.body) },
      response,
    },
    nodes: form.nodes,
  } as unknown as WorkflowDocument;
  if (Object.keys(options).length > 0) doc.options = options as WorkflowDocument['options'];
  return doc;
}
