// The REST client: config-api at the same origin, the admin token from sessionStorage,
// errors turned into sentences a person can act on.

import type {
  BulkReplay,
  Execution,
  ExecutionSummary,
  Json,
  Page,
  Problem,
  ReplayVersion,
  Variable,
  Version,
  Workflow,
  WorkflowDocument,
} from './model/types';

const TOKEN_KEY = 'hookflow.adminToken';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** An answer that was not a success, in words, with the 422 problems when there are any. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

/** Called when the API refuses the token, so that the app can ask for it again. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

function describe(status: number, code: string, message: string | undefined): string {
  if (status === 401) return 'The admin token was refused: sign in again with the token config-api was started with.';
  if (status === 404) return message ? `Not found: ${message}.` : 'Not found (it may have been deleted).';
  if (status === 422) return message ?? 'The workflow has problems; they are shown at their fields.';
  if (status >= 500) return `config-api failed to answer (${status}${code ? ` ${code}` : ''}); try again, and check its logs if it persists.`;
  return message ?? `The request failed (${status}).`;
}

export async function request<T>(method: string, path: string, body?: unknown, token = storedToken()): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'config-api cannot be reached: check that it is running and the network is up.');
  }
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data ?? {}) as { error?: string; message?: string; problems?: Problem[] };
    if (response.status === 401) onUnauthorized();
    throw new ApiError(
      response.status,
      error.error ?? '',
      describe(response.status, error.error ?? '', error.message),
      error.problems ?? [],
    );
  }
  return data as T;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (entries.length === 0) return '';
  return '?' + new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString();
}

export const api = {
  /** Checks a token by listing one workflow with it. */
  checkToken: (token: string) => request<Page<Workflow>>('GET', '/api/workflows?limit=1', undefined, token),
  listWorkflows: (cursor?: string | null) => request<Page<Workflow>>('GET', `/api/workflows${query({ limit: 100, cursor })}`),
  getWorkflow: (id: string) => request<Workflow>('GET', `/api/workflows/${id}`),
  createWorkflow: (doc: WorkflowDocument) => request<Workflow>('POST', '/api/workflows', doc),
  updateWorkflow: (id: string, doc: WorkflowDocument) => request<Workflow>('PUT', `/api/workflows/${id}`, doc),
  deleteWorkflow: (id: string) => request<null>('DELETE', `/api/workflows/${id}`),
  setEnabled: (id: string, enabled: boolean) =>
    request<Workflow>('POST', `/api/workflows/${id}/${enabled ? 'enable' : 'disable'}`),
  listVersions: (id: string, cursor?: string | null) =>
    request<Page<Version>>('GET', `/api/workflows/${id}/versions${query({ limit: 200, cursor })}`),
  getVersion: (id: string, version: number) => request<Version>('GET', `/api/workflows/${id}/versions/${version}`),
  parseQuery: (example: string) =>
    request<{ value: Json; paths: { key: string }[] }>('POST', '/api/parse/query', { example }),
  parseBody: (example: Json) => request<{ paths: { key: string }[] }>('POST', '/api/parse/body', { example }),
  listExecutions: (params: { workflowId?: string; status?: string; limit?: number; cursor?: string | null }) =>
    request<Page<ExecutionSummary>>('GET', `/api/executions${query(params)}`),
  getExecution: (id: string) => request<Execution>('GET', `/api/executions/${id}`),
  replayExecution: (id: string, version: ReplayVersion) =>
    request<Execution>('POST', `/api/executions/${encodeURIComponent(id)}/replay`, replayBody(version)),
  replayFailed: (workflowId: string, version: ReplayVersion) =>
    request<BulkReplay>('POST', '/api/executions/replay', bulkReplayBody(workflowId, version)),
  listVariables: (cursor?: string | null) => request<Page<Variable>>('GET', `/api/variables${query({ limit: 200, cursor })}`),
  createVariable: (variable: { name: string; value: string; secret: boolean }) =>
    request<Variable>('POST', '/api/variables', variable),
  updateVariable: (name: string, change: { value: string; secret: boolean }) =>
    request<Variable>('PUT', `/api/variables/${encodeURIComponent(name)}`, change),
  deleteVariable: (name: string) => request<null>('DELETE', `/api/variables/${encodeURIComponent(name)}`),
};

/** The execution statuses a bulk replay picks up: the runs that did not resolve. */
export const FAILED_STATUSES = ['error', 'failed'] as const;

/** The body of `POST /api/executions/{id}/replay`. */
export function replayBody(version: ReplayVersion): { version: ReplayVersion } {
  return { version };
}

/** The body of `POST /api/executions/replay`: a workflow's failed executions. */
export function bulkReplayBody(
  workflowId: string,
  version: ReplayVersion,
): { workflowId: string; status: string[]; version: ReplayVersion } {
  return { workflowId, status: [...FAILED_STATUSES], version };
}

/** Every page of a list. */
export async function listAll<T>(list: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await list(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
