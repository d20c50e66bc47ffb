import { describe, expect, it } from 'vitest';

import { emptyDocument, textToValue, toDocument, toForm, valueToText } from './form';
import type { WorkflowDocument } from './types';

const payment = (): WorkflowDocument => ({
  title: 'Payment callback',
  sync: true,
  enabled: true,
  trigger: {
    type: 'webhook',
    basicAuthentication: { username: 'shop', password: '********' },
    request: {
      headers: [{ key: 'X-Request-Id' }],
      query: [{ key: 'source', alias: 'Source' }],
      body: [{ key: 'id' }, { key: 'amount', alias: 'Amount' }],
    },
    response: { statusCode: 200, body: 'ok' },
    rateLimit: { perSecond: 10, burst: 20 },
  },
  options: { timeout: 5000 },
  nodes: [{ key: 'done', type: 'end', config: { endStatus: 1 } }],
});

describe('document ↔ form model', () => {
  it('round-trips a document, settings the forms do not edit included', () => {
    const doc = payment();
    expect(toDocument(toForm(doc))).toEqual(doc);
  });

  it('keeps only the document of a workflow record', () => {
    const record = { ...payment(), id: 'w1', key: 'abc', version: 3, webhookUrl: 'http://x', createdAt: 't', updatedAt: 't' };
    expect(toDocument(toForm(record))).toEqual(payment());
  });

  it('shows the document in form terms', () => {
    const form = toForm(payment());
    expect(form.basicAuth).toEqual({ enabled: true, username: 'shop', password: '********' });
    expect(form.query).toEqual([{ key: 'source', alias: 'Source' }]);
    expect(form.timeout).toBe('5000');
    expect(form.response).toEqual({ statusCode: '200', headers: [], body: 'ok' });
    expect(form.rest.trigger).toEqual({ type: 'webhook', rateLimit: { perSecond: 10, burst: 20 } });
  });

  it('writes the forms back as config-api expects them', () => {
    const form = toForm(emptyDocument());
    form.title = 'Orders';
    form.basicAuth = { enabled: false, username: 'left', password: 'over' };
    form.query = [{ key: ' a ', alias: '' }, { key: '', alias: '' }];
    form.response = { statusCode: '202', headers: [{ name: 'X-Ack', value: '1' }, { name: '', value: '' }], body: '{"ok": true}' };
    form.timeout = '9000';
    const doc = toDocument(form);
    expect(doc.trigger.basicAuthentication).toBe(false);
    expect(doc.trigger.request?.query).toEqual([{ key: 'a' }]);
    expect(doc.trigger.response).toEqual({ statusCode: 202, headers: [{ name: 'X-Ack', value: '1' }], body: { ok: true } });
    // The timeout belongs to sync workflows only.
    expect(doc.options).toBeUndefined();
    expect(toDocument({ ...form, sync: true }).options).toEqual({ timeout: 9000 });
  });

  it('keeps values that are not numbers for config-api to name', () => {
    const form = toForm(emptyDocument());
    form.response.statusCode = 'two hundred';
    expect(toDocument(form).trigger.response?.statusCode).toBe('two hundred');
  });
});

describe('body text', () => {
  it('is JSON when it looks like JSON, else text', () => {
    expect(textToValue('ok')).toEqual({ value: 'ok' });
    expect(textToValue('{"a": 1}')).toEqual({ value: { a: 1 } });
    expect(textToValue('[1, 2]')).toEqual({ value: [1, 2] });
    expect(textToValue('12')).toEqual({ value: 12 });
    expect(textToValue('12 apples')).toEqual({ value: '12 apples' });
    expect(textToValue('')).toEqual({ value: undefined });
    expect(textToValue('{"a": ')).toHaveProperty('error');
  });

  it('round-trips strings that look like JSON', () => {
    for (const value of ['ok', '{not json}', '42', { code: 0 }, [1], 7, true]) {
      const back = textToValue(valueToText(value));
      expect(back).toEqual({ value });
    }
  });
});

describe('the sync timeout answer (options.timeoutResponse)', () => {
  const withTimeoutAnswer = (): WorkflowDocument => ({
    ...payment(),
    options: {
      timeout: 5000,
      timeoutResponse: {
        statusCode: 202,
        headers: [{ name: 'Retry-After', value: '5' }],
        body: { executionId: '{{$execution.id}}', status: 'running' },
      },
    },
  });

  it('round-trips, and shows in form terms', () => {
    const doc = withTimeoutAnswer();
    expect(toDocument(toForm(doc))).toEqual(doc);
    const form = toForm(doc);
    expect(form.timeoutResponse.enabled).toBe(true);
    expect(form.timeoutResponse.statusCode).toBe('202');
    expect(form.timeoutResponse.headers).toEqual([{ name: 'Retry-After', value: '5' }]);
    expect(JSON.parse(form.timeoutResponse.body)).toEqual({ executionId: '{{$execution.id}}', status: 'running' });
    // It is no setting the forms leave to the JSON tab.
    expect(form.rest.options).toEqual({});
  });

  it('is off (408) unless switched on, and written from the fields', () => {
    const form = toForm(payment());
    expect(form.timeoutResponse).toEqual({ enabled: false, statusCode: '', headers: [], body: '' });
    expect(toDocument(form).options).toEqual({ timeout: 5000 });
    form.timeoutResponse = { enabled: true, statusCode: '202', headers: [{ name: '', value: '' }], body: '{"executionId": "{{$execution.id}}"}' };
    expect(toDocument(form).options).toEqual({
      timeout: 5000,
      timeoutResponse: { statusCode: 202, body: { executionId: '{{$execution.id}}' } },
    });
    form.timeoutResponse.statusCode = '';
    form.timeoutResponse.body = 'still working';
    expect(toDocument(form).options?.timeoutResponse).toEqual({ body: 'still working' });
  });

  it('is dropped with the timeout when the workflow is async, and back when it is sync again', () => {
    const form = toForm(withTimeoutAnswer());
    form.sync = false;
    expect(toDocument(form).options).toBeUndefined();
    form.sync = true;
    expect(toDocument(form)).toEqual(withTimeoutAnswer());
  });
});
