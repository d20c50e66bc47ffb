// The webhook trigger: mode, basic authentication, declared variables, async answer, timeout.

import { api } from '../api';
import { CopyUrl, FieldProblems } from '../components/common';
import { CheckField, TextField } from '../components/fields';
import { FieldTable, HeaderTable } from '../components/FieldTable';
import { TemplateInput } from '../components/TemplateInput';
import { DEFAULT_TIMEOUT_MS, textToValue, type FormModel } from '../model/form';
import { headerNames } from '../model/parse';
import { problemsAt, sectionProblems } from '../model/problems';
import type { Json, Problem, WorkflowDocument } from '../model/types';
import { variableGroups } from '../model/variables';
import { GUARD_SETTINGS, GuardForm } from './GuardForm';

/** Trigger paths that a field below shows; other trigger problems are listed on top. */
const SHOWN = [
  'trigger.basicAuthentication',
  'trigger.basicAuthentication.username',
  'trigger.basicAuthentication.password',
  'trigger.response.statusCode',
  'trigger.response.body',
  'options.timeout',
  'options.timeoutResponse',
  'options.timeoutResponse.statusCode',
];

/** The three tables of declared variables, each with its way of parsing an example. */
const REQUEST_PARTS: {
  name: 'headers' | 'query' | 'body';
  title: string;
  description: string;
  exampleLabel: string;
  examplePlaceholder: string;
  multiline: boolean;
  parse: (example: string) => Promise<string[]>;
}[] = [
  {
    name: 'headers',
    title: 'Headers',
    description: 'Headers copied into $context.headers (lower-case names; never Authorization).',
    exampleLabel: 'Example headers (Name: value lines)',
    examplePlaceholder: 'X-Request-Id: 42\nX-Shop: acme',
    multiline: true,
    parse: async (example) => headerNames(example),
  },
  {
    name: 'query',
    title: 'Query',
    description: 'Paths in the parsed query string, e.g. items[0].id.',
    exampleLabel: 'Example URL or query string',
    examplePlaceholder: 'https://…/api/webhook:trigger/key?source=shop&items[0][id]=1',
    multiline: false,
    parse: async (example) => (await api.parseQuery(example)).paths.map((p) => p.key),
  },
  {
    name: 'body',
    title: 'Body',
    description: 'Paths in the parsed JSON body, e.g. order.id.',
    exampleLabel: 'Example JSON body',
    examplePlaceholder: '{"id": "o-1", "status": "paid"}',
    multiline: true,
    parse: async (example) => {
      let value: Json;
      try {
        value = JSON.parse(example) as Json;
      } catch (error) {
        throw new Error(`The example is not valid JSON: ${(error as Error).message}`);
      }
      return (await api.parseBody(value)).paths.map((p) => p.key);
    },
  },
];

export function TriggerForm({
  form,
  onChange,
  problems,
  doc,
  webhookUrl,
}: {
  form: FormModel;
  onChange: (change: Partial<FormModel>) => void;
  problems: Problem[];
  doc: WorkflowDocument;
  webhookUrl: string | null;
}) {
  const at = (path: string) => problemsAt(problems, path);
  // Problems the tables and the guarding form show themselves are not repeated on top.
  const shownBelow = new RegExp(`^trigger\\.(request\\.(headers|query|body)|response\\.(headers|body)|${GUARD_SETTINGS.join('|')})([.[]|$)`);
  const others = sectionProblems(problems, 'trigger', SHOWN).filter(
    (p) => !shownBelow.test(p.path) && !/^options\.timeoutResponse\.(headers|body)([.[]|$)/.test(p.path),
  );
  const bodyParse = textToValue(form.response.body);
  const timeoutBodyParse = textToValue(form.timeoutResponse.body);
  const setTimeoutResponse = (change: Partial<FormModel['timeoutResponse']>) =>
    onChange({ timeoutResponse: { ...form.timeoutResponse, ...change } });
  const groups = variableGroups(doc, null);
  return (
    <div className="trigger-form">
      <FieldProblems problems={others} />
      <section className="card" aria-labelledby="mode-title">
        <h2 id="mode-title">Webhook</h2>
        {webhookUrl ? (
          <div className="field">
            <span className="field-label">Webhook URL (POST)</span>
            <CopyUrl url={webhookUrl} />
          </div>
        ) : (
          <p className="hint">The webhook URL is assigned when the workflow is first saved.</p>
        )}
        <fieldset className="radio-group">
          <legend>Mode</legend>
          <label>
            <input type="radio" name="mode" checked={!form.sync} onChange={() => onChange({ sync: false })} /> Async — the caller
            gets the configured answer at once; the workflow runs afterwards
          </label>
          <label>
            <input type="radio" name="mode" checked={form.sync} onChange={() => onChange({ sync: true })} /> Sync — the caller
            waits for the answer of a Response node
          </label>
        </fieldset>
        <CheckField
          label="Basic authentication"
          checked={form.basicAuth.enabled}
          onChange={(enabled) => onChange({ basicAuth: { ...form.basicAuth, enabled } })}
          hint="Callers must send these credentials; others get 401."
        />
        <FieldProblems problems={at('trigger.basicAuthentication')} />
        {form.basicAuth.enabled && (
          <div className="row-fields">
            <TextField
              label="Username"
              value={form.basicAuth.username}
              onChange={(username) => onChange({ basicAuth: { ...form.basicAuth, username } })}
              problems={at('trigger.basicAuthentication.username')}
            />
            <TextField
              label="Password"
              type="password"
              value={form.basicAuth.password}
              onChange={(password) => onChange({ basicAuth: { ...form.basicAuth, password } })}
              problems={at('trigger.basicAuthentication.password')}
              hint={form.basicAuth.password === '********' ? 'The stored password is kept unless you type a new one.' : undefined}
            />
          </div>
        )}
        {form.sync && (
          <TextField
            label="Sync timeout (ms)"
            inputMode="numeric"
            value={form.timeout}
            placeholder={String(DEFAULT_TIMEOUT_MS)}
            onChange={(timeout) => onChange({ timeout })}
            problems={at('options.timeout')}
            hint={`How long the caller waits for a Response node; then 408 or the timeout answer. Empty: ${DEFAULT_TIMEOUT_MS} ms.`}
          />
        )}
      </section>

      {form.sync && (
        <section className="card" aria-labelledby="timeout-response-title">
          <h2 id="timeout-response-title">Sync timeout answer</h2>
          <CheckField
            label="Answer with my own response when the timeout passes"
            checked={form.timeoutResponse.enabled}
            onChange={(enabled) => setTimeoutResponse({ enabled })}
            hint="Otherwise the caller gets 408. Either way the execution goes on and is recorded."
          />
          <FieldProblems problems={at('options.timeoutResponse')} />
          {form.timeoutResponse.enabled && (
            <div className="indent">
              <TextField
                label="Timeout answer status code"
                inputMode="numeric"
                placeholder="200"
                value={form.timeoutResponse.statusCode}
                onChange={(statusCode) => setTimeoutResponse({ statusCode })}
                problems={at('options.timeoutResponse.statusCode')}
              />
              <HeaderTable
                title="Timeout answer headers"
                rows={form.timeoutResponse.headers}
                onChange={(headers) => setTimeoutResponse({ headers })}
                problems={problems}
                path="options.timeoutResponse.headers"
                groups={groups}
              />
              <TemplateInput
                label="Timeout answer body (text, or JSON with templates in its strings)"
                multiline
                value={form.timeoutResponse.body}
                onChange={(body) => setTimeoutResponse({ body })}
                groups={groups}
                placeholder='{"executionId": "{{$execution.id}}", "status": "running"}'
                hint="Templates see $context and $execution.id."
                problems={[
                  ...problems.filter((p) => p.path.startsWith('options.timeoutResponse.body')),
                  ...('error' in timeoutBodyParse ? [{ path: 'options.timeoutResponse.body', message: timeoutBodyParse.error }] : []),
                ]}
              />
            </div>
          )}
        </section>
      )}

      <section className="card" aria-labelledby="vars-title">
        <h2 id="vars-title">Request variables</h2>
        <p className="hint">
          The declared variables are what the node forms offer as <code>$context</code> paths. The whole query and body are
          always available; only declared headers are.
        </p>
        <div className="tables">
          {REQUEST_PARTS.map((part) => (
            <FieldTable
              key={part.name}
              {...part}
              rows={form[part.name]}
              onChange={(rows) => onChange({ [part.name]: rows })}
              problems={problems}
              path={`trigger.request.${part.name}`}
            />
          ))}
        </div>
      </section>

      {!form.sync && (
        <section className="card" aria-labelledby="response-title">
          <h2 id="response-title">Async response</h2>
          <p className="hint">Sent once the execution is safely queued. Defaults: 200 and “ok”.</p>
          <TextField
            label="Status code"
            inputMode="numeric"
            placeholder="200"
            value={form.response.statusCode}
            onChange={(statusCode) => onChange({ response: { ...form.response, statusCode } })}
            problems={at('trigger.response.statusCode')}
          />
          <HeaderTable
            title="Response headers"
            rows={form.response.headers}
            onChange={(headers) => onChange({ response: { ...form.response, headers } })}
            problems={problems}
            path="trigger.response.headers"
          />
          <TemplateInput
            label="Response body (text, or JSON)"
            multiline
            value={form.response.body}
            onChange={(body) => onChange({ response: { ...form.response, body } })}
            groups={groups}
            placeholder="ok"
            problems={[
              ...problems.filter((p) => p.path.startsWith('trigger.response.body')),
              ...('error' in bodyParse ? [{ path: 'trigger.response.body', message: bodyParse.error }] : []),
            ]}
          />
        </section>
      )}
      <GuardForm
        settings={form.rest.trigger}
        onChange={(trigger) => onChange({ rest: { ...form.rest, trigger } })}
        problems={problems}
        doc={doc}
      />
      {Object.keys(form.rest.trigger).some((k) => k !== 'type' && !GUARD_SETTINGS.includes(k)) && (
        <p className="hint">
          This trigger also has settings the forms do not edit (
          {Object.keys(form.rest.trigger)
            .filter((k) => k !== 'type' && !GUARD_SETTINGS.includes(k))
            .join(', ')}
          ); they are kept, and the JSON tab shows them.
        </p>
      )}
    </div>
  );
}
