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
