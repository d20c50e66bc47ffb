// The node types without branches: response, end, calculation, delay.

import { useEffect, useState } from 'react';

import { SelectField, TextField } from '../components/fields';
import { HeaderTable } from '../components/FieldTable';
import { TemplateInput } from '../components/TemplateInput';
import { fieldText, numberOrText, textToValue, valueToText } from '../model/form';
import { problemsAt } from '../model/problems';
import type { HeaderSpec, Json } from '../model/types';
import { variableGroups } from '../model/variables';
import { END_STATUSES, NodeIdentity, setConfig } from './common';
import type { NodeFormProps, NodeTypeSpec } from './registry';

function ResponseForm(props: NodeFormProps) {
  const { node, path, doc, problems, onChange } = props;
  // The body is edited as text; the config gets its value whenever the text parses.
  const [body, setBody] = useState(() => valueToText(node.config.body));
  useEffect(() => {
    setBody(valueToText(node.config.body));
    // Only another node resets the text; typing keeps what was typed.
  }, [path, node.key]);
  const parsed = textToValue(body);
  const setBodyText = (text: string) => {
    setBody(text);
    const value = textToValue(text);
    if ('value' in value) onChange(setConfig(node, 'body', value.value));
  };
  const headers = Array.isArray(node.config.headers) ? (node.config.headers as unknown as HeaderSpec[]) : [];
  return (
    <>
      <NodeIdentity {...props} />
      {!doc.sync && (
        <p className="banner warn" role="note">
          A response node only runs in a sync workflow; switch the trigger to sync.
        </p>
      )}
      <TextField
        label="Status code"
        inputMode="numeric"
        placeholder="200"
        value={fieldText(node.config.statusCode)}
        onChange={(text) => onChange(setConfig(node, 'statusCode', numberOrText(text)))}
        problems={problemsAt(problems, `${path}.config.statusCode`)}
      />
      <HeaderTable
        title="Headers"
        rows={headers}
        onChange={(rows) => onChange(setConfig(node, 'headers', rows.length ? (rows as unknown as Json) : undefined))}
        problems={problems}
        path={`${path}.config.headers`}
      />
      <TemplateInput
        label="Body (text, or JSON with templates in its strings)"
        multiline
        rows={6}
        value={body}
        onChange={setBodyText}
        groups={variableGroups(doc, path, props.env)}
        placeholder='{"code": 0, "id": "{{$context.body.id}}"}'
        problems={[
          ...problems.filter((p) => p.path.startsWith(`${path}.config.body`)),
          ...('error' in parsed ? [{ path: '', message: parsed.error }] : []),
        ]}
      />
    </>
  );
}

export const response: NodeTypeSpec = {
  type: 'response',
  label: 'Response',
  description: 'Answers the sync caller and ends the workflow',
  syncOnly: true,
  defaultConfig: () => ({ statusCode: 200, body: { code: 0 } }),
  branches: () => [],
  terminates: () => true,
  summary: (node) => `${fieldText(node.config.statusCode) || '200'} ${valueToText(node.config.body).replace(/\s+/g, ' ').slice(0, 60)}`,
  fields: ['key', 'title', 'config.statusCode', 'config.body'],
  Form: ResponseForm,
};

function EndForm(props: NodeFormProps) {
  const { node, path, problems, onChange } = props;
  return (
    <>
      <NodeIdentity {...props} />
      <SelectField
        label="End the workflow as"
        value={node.config.endStatus === -1 ? '-1' : '1'}
        options={END_STATUSES}
        onChange={(value) => onChange(setConfig(node, 'endStatus', Number(value)))}
        problems={problemsAt(problems, `${path}.config.endStatus`)}
      />
    </>
  );
}

export const end: NodeTypeSpec = {
  type: 'end',
  label: 'End',
  description: 'Ends the workflow as resolved or failed',
  defaultConfig: () => ({ endStatus: 1 }),
  branches: () => [],
  terminates: () => true,
  summary: (node) => (node.config.endStatus === -1 ? 'ends as failed' : 'ends as resolved'),
  fields: ['key', 'title', 'config.endStatus'],
  Form: EndForm,
};

function CalculationForm(props: NodeFormProps) {
  const { node, path, doc, problems, onChange } = props;
  return (
    <>
      <NodeIdentity {...props} />
      <TemplateInput
        label="CEL expression (its value is the node's output)"
        multiline
        mode="cel"
        value={typeof node.config.expression === 'string' ? node.config.expression : ''}
        onChange={(expression) => onChange(setConfig({ ...node, config: { ...node.config, engine: 'cel' } }, 'expression', expression))}
        groups={variableGroups(doc, path, props.env)}
        placeholder="double(context.body.amount) * 1.2"
        problems={[...problemsAt(problems, `${path}.config.expression`), ...problemsAt(problems, `${path}.config.engine`)]}
        hint="CEL sees context, jobs (earlier nodes' outputs), env (variables), scopes (loop items) and system."
      />
    </>
  );
}

export const calculation: NodeTypeSpec = {
  type: 'calculation',
  label: 'Calculation',
  description: 'Computes a value with a CEL expression',
  defaultConfig: () => ({ engine: 'cel', expression: '' }),
  branches: () => [],
  terminates: () => false,
  summary: (node) => String(node.config.expression ?? ''),
  fields: ['key', 'title', 'config.expression', 'config.engine'],
  Form: CalculationForm,
};

function DelayForm(props: NodeFormProps) {
  const { node, path, problems, onChange } = props;
  return (
    <>
      <NodeIdentity {...props} />
      <TextField
        label="Duration (ms)"
        inputMode="numeric"
        value={fieldText(node.config.duration)}
        onChange={(text) => onChange(setConfig(node, 'duration', numberOrText(text)))}
        problems={problemsAt(problems, `${path}.config.duration`)}
        hint="At most 15 minutes (900000 ms)."
      />
      <SelectField
        label="When it expires"
        value={node.config.endStatus === -1 ? '-1' : '1'}
        options={[
          { value: '1', label: 'Continue (1)' },
          { value: '-1', label: 'Fail the workflow (-1)' },
        ]}
        onChange={(value) => onChange(setConfig(node, 'endStatus', Number(value)))}
        problems={problemsAt(problems, `${path}.config.endStatus`)}
      />
    </>
  );
}

export const delay: NodeTypeSpec = {
  type: 'delay',
  label: 'Delay',
  description: 'Waits, then continues or fails',
  defaultConfig: () => ({ duration: 1000, endStatus: 1 }),
  branches: () => [],
  terminates: () => false,
  summary: (node) => `${fieldText(node.config.duration) || '?'} ms`,
  fields: ['key', 'title', 'config.duration', 'config.endStatus'],
  Form: DelayForm,
};
