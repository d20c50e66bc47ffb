// Workflow documents and API records as config-api speaks them (NocoBase's field names).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface FieldSpec {
  key: string;
  alias?: string;
}

export interface HeaderSpec {
  name: string;
  value: string;
}

export interface WorkflowNode {
  key: string;
  type: string;
  title?: string;
  config: JsonObject;
  branches?: Record<string, WorkflowNode[]>;
}

export interface Trigger {
  type: string;
  basicAuthentication?: false | { username: string; password: string };
  request?: { headers?: FieldSpec[]; query?: FieldSpec[]; body?: FieldSpec[] };
  response?: { statusCode?: number; headers?: HeaderSpec[]; body?: Json };
  [setting: string]: unknown;
}

export interface WorkflowDocument {
  title: string;
  sync: boolean;
  enabled: boolean;
  trigger: Trigger;
  options?: { timeout?: number; [option: string]: Json | undefined };
  nodes: WorkflowNode[];
}

export interface Workflow extends WorkflowDocument {
  id: string;
  key: string;
  version: number;
  webhookUrl: string;
  createdAt: string;
  updatedAt: string;
}

export interface Version extends WorkflowDocument {
  id: string;
  key: string;
  version: number;
  webhookUrl: string;
  createdAt: string;
}

export type ExecutionStatus = 'queued' | 'started' | 'resolved' | 'failed' | 'error' | 'aborted';
export const EXECUTION_STATUSES: ExecutionStatus[] = [
  'queued',
  'started',
  'resolved',
  'failed',
  'error',
  'aborted',
];

export interface ExecutionSummary {
  id: string;
  workflowId: string;
  version: number;
  status: ExecutionStatus;
  error: string | null;
  /** The execution this one replays, when it is a replay. */
  replayOf?: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Job {
  nodeKey: string;
  nodeType: string;
  status: string;
  result: Json | null;
  startedAt: string;
  finishedAt: string | null;
  iteration?: number[];
}

export interface Execution extends ExecutionSummary {
  context: JsonObject;
  jobs: Job[];
  response: Json | null;
  attempts: number;
}

/** Which version of the workflow a replay runs. */
export type ReplayVersion = 'current' | 'original';

/** What `POST /api/executions/replay` answers. */
export interface BulkReplay {
  queued: number;
  executionIds: string[];
}

/** A `$env` variable; a secret's value reads `"********"`. */
export interface Variable {
  name: string;
  value: string;
  secret: boolean;
  createdAt?: string;
  updatedAt?: string;
}

/** The value the API answers for a secret. */
export const MASKED = '********';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Problem {
  path: string;
  message: string;
}

/** Whether an execution may still change (the console polls while any does). */
export function isRunning(status: string): boolean {
  return status === 'queued' || status === 'started';
}
