// The HTTP request node (NocoBase's request node): method, URL, content type, headers,
// query parameters, data, timeout, what a failure does, and retries.

import { CheckField, SelectField, TextField } from '../components/fields';
import { HeaderTable } from '../components/FieldTable';
import { TemplateInput } from '../components/TemplateInput';
import { ValueField } from '../components/ValueField';
import { fieldText, numberOrText } from '../model/form';
import { problemsAt } from '../model/problems';
import type { HeaderSpec, Json, JsonObject, WorkflowNode } from '../model/types';
import { variableGroups } from '../model/variables';
import { ConfigProblems, NodeIdentity, setConfig } from './common';
import type { NodeFormProps, NodeTypeSpec } from './registry';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml'];
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
export const DEFAULT_RETRY = { attempts: 3, backoff: 500 };

function pairs(value: Json | undefined): HeaderSpec[] {
  return Array.isArray(value) ? (value as unknown as HeaderSpec[]) : [];
}

/** The `[{name, value}]` lists as the document holds them: absent when empty. */
function pairsValue(rows: HeaderSpec[]): Json | undefined {
  return rows.length ? (rows as unknown as Json) : undefined;
}

/**
 * A node with another content type. Form data is a list of `{name, value}`; the other types
 * take any value, so a list of pairs becomes an object and anything else is kept, except
 * that a value that is not a list is dropped when switching to form data.
 */
export function withContentType(node: WorkflowNode, contentType: string): WorkflowNode {
  const next = setConfig(node, 'contentType', contentType);
  const data = node.config.data;
  if (contentType === FORM_CONTENT_TYPE) {
    if (data !== undefined && !Array.isArray(data)) {
      const entries = data !== null && typeof data === 'object' ? Object.entries(data) : [];
      return setConfig(
        next,
        'data',
        entries.length ? (entries.map(([name, value]) => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value) })) as Json) : undefined,
      );
    }
  } else if (Array.isArray(data) && (node.config.contentType ?? 'application/json') === FORM_CONTENT_TYPE) {
    const object: JsonObject = {};
    for (const row of pairs(data)) if (row.name) object[row.name] = row.value;
    return setConfig(next, 'data', Object.keys(object).length ? object : undefined);
  }
  return next;
}

function RequestForm(props: NodeFormProps) {
  const { node, path, doc, problems, onChange } = props;
  const groups = variableGroups(doc, path, props.env);
  const at = (field: string) => problemsAt(problems, `${path}.config.${field}`);
  const under = (field: string) => problems.filter((p) => p.path.startsWith(`${path}.config.${field}`));
  const method = typeof node.config.method === 'string' ? node.config.method.toUpperCase() : 'POST';
  const contentType = typeof node.config.contentType === 'string' ? node.config.contentType : 'application/json';
  const retry = node.config.retry && typeof node.config.retry === 'object' && !Array.isArray(node.config.retry) ? (node.config.retry as JsonObject) : null;
  const setRetry = (field: string, text: string) => onChange(setConfig(node, 'retry', { ...retry, [field]: numberOrText(text) ?? null }));
  return (
    <>
      <NodeIdentity {...props} />
      <div className="row-fields">
        <SelectField
          label="Method"
          value={METHODS.includes(method) ? method : 'POST'}
          options={METHODS.map((m) => ({ value: m, label: m }))}
          onChange={(value) => onChange(setConfig(node, 'method', value))}
          problems={at('method')}
        />
        <SelectField
          label="Content type"
          value={CONTENT_TYPES.includes(contentType) ? contentType : 'application/json'}
          options={CONTENT_TYPES.map((c) => ({ value: c, label: c }))}
          onChange={(value) => onChange(withContentType(node, value))}
          problems={at('contentType')}
        />
      </div>
      <TemplateInput
        label="URL"
        value={fieldText(node.config.url)}
        onChange={(url) => onChange(setConfig(node, 'url', url))}
        groups={groups}
        placeholder="https://api.example.com/orders/{{$context.body.id}}"
        problems={at('url')}
        hint="http or https; query values of secret variables are masked in the execution record."
      />
      <HeaderTable
        title="Request headers"
        rows={pairs(node.config.headers)}
        onChange={(rows) => onChange(setConfig(node, 'headers', pairsValue(rows)))}
        problems={problems}
        path={`${path}.config.headers`}
        groups={groups}
      />
      <HeaderTable
        title="Query parameters"
        rows={pairs(node.config.params)}
        onChange={(rows) => onChange(setConfig(node, 'params', pairsValue(rows)))}
        problems={problems}
        path={`${path}.config.params`}
        groups={groups}
        addLabel="Add parameter"
      />
      {method === 'GET' ? (
        <p className="hint">A GET request sends no data.</p>
      ) : contentType === FORM_CONTENT_TYPE ? (
        <HeaderTable
          title="Form data"
          rows={pairs(node.config.data)}
          onChange={(rows) => onChange(setConfig(node, 'data', pairsValue(rows)))}
          problems={problems}
          path={`${path}.config.data`}
          groups={groups}
          addLabel="Add field"
        />
      ) : contentType === 'application/json' ? (
        <ValueField
          // A new content type starts the text again from what the document holds.
          key={contentType}
          label="Data (JSON with templates in its strings)"
          value={node.config.data}
          onChange={(data) => onChange(setConfig(node, 'data', data))}
          groups={groups}
          problems={under('data')}
          placeholder='{"orderId": "{{$context.body.id}}"}'
        />
      ) : (
        <TemplateInput
          label={`Data (${contentType})`}
          multiline
          rows={6}
          value={typeof node.config.data === 'string' ? node.config.data : node.config.data === undefined ? '' : JSON.stringify(node.config.data)}
          onChange={(data) => onChange(setConfig(node, 'data', data === '' ? undefined : data))}
          groups={groups}
          problems={under('data')}
        />
      )}
      <TextField
        label="Timeout (ms)"
        inputMode="numeric"
        placeholder={String(DEFAULT_REQUEST_TIMEOUT_MS)}
        value={fieldText(node.config.timeout)}
        onChange={(text) => onChange(setConfig(node, 'timeout', numberOrText(text)))}
        problems={at('timeout')}
        hint={`Per attempt. Empty: ${DEFAULT_REQUEST_TIMEOUT_MS} ms.`}
      />
      <CheckField
        label="Go on when it fails (ignoreFail)"
        checked={node.config.ignoreFail === true}
        onChange={(ignoreFail) => onChange(setConfig(node, 'ignoreFail', ignoreFail || undefined))}
        hint="A failed call then resolves with {status, error} as its output instead of failing the workflow."
      />
      <ConfigProblems path={path} problems={problems} field="config.ignoreFail" />
      <CheckField
        label="Only the answer's data (onlyData)"
        checked={node.config.onlyData === true}
        onChange={(onlyData) => onChange(setConfig(node, 'onlyData', onlyData || undefined))}
        hint="The output is the answer's body instead of {status, headers, data}."
      />
      <ConfigProblems path={path} problems={problems} field="config.onlyData" />
      <CheckField
        label="Retry"
        checked={retry !== null}
        onChange={(on) => onChange(setConfig(node, 'retry', on ? { ...DEFAULT_RETRY } : undefined))}
        hint="On connection errors, 5xx and 429 (honouring Retry-After)."
      />
      {retry !== null && (
        <div className="row-fields indent">
          <TextField
            label="Attempts"
            inputMode="numeric"
            value={fieldText(retry.attempts)}
            onChange={(text) => setRetry('attempts', text)}
            problems={at('retry.attempts')}
          />
          <TextField
            label="Backoff (ms)"
            inputMode="numeric"
            value={fieldText(retry.backoff)}
            onChange={(text) => setRetry('backoff', text)}
            problems={at('retry.backoff')}
          />
        </div>
      )}
      <ConfigProblems path={path} problems={problems.filter((p) => p.path === `${path}.config.retry`)} field="config.retry" />
    </>
  );
}

export const request: NodeTypeSpec = {
  type: 'request',
  label: 'HTTP request',
  description: 'Calls an HTTP API; its answer is the output',
  defaultConfig: () => ({ method: 'POST', url: '', contentType: 'application/json', timeout: DEFAULT_REQUEST_TIMEOUT_MS }),
  branches: () => [],
  terminates: () => false,
  summary: (node) => `${fieldText(node.config.method) || 'POST'} ${fieldText(node.config.url) || '(no URL)'}`,
  fields: [
    'key',
    'title',
    'config.method',
    'config.url',
    'config.contentType',
    'config.headers',
    'config.params',
    'config.data',
    'config.timeout',
    'config.ignoreFail',
    'config.onlyData',
    'config.retry',
  ],
  Form: RequestForm,
};
