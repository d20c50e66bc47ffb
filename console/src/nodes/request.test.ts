import { describe, expect, it } from 'vitest';

import type { WorkflowNode } from '../model/types';
import { request, withContentType } from './request';

const call = (config: WorkflowNode['config']): WorkflowNode => ({ key: 'call', type: 'request', config });

describe('the request node form', () => {
  it('turns JSON data into form fields when the content type becomes form data, and back', () => {
    const json = call({ method: 'POST', url: 'https://x', contentType: 'application/json', data: { id: '{{$context.body.id}}', n: 2 } });
    const form = withContentType(json, 'application/x-www-form-urlencoded');
    expect(form.config).toEqual({
      method: 'POST',
      url: 'https://x',
      contentType: 'application/x-www-form-urlencoded',
      data: [
        { name: 'id', value: '{{$context.body.id}}' },
        { name: 'n', value: '2' },
      ],
    });
    const back = withContentType(form, 'application/json');
    expect(back.config.data).toEqual({ id: '{{$context.body.id}}', n: '2' });
  });

  it('keeps text data for text types, and drops what form data cannot hold', () => {
    const text = call({ contentType: 'text/plain', data: 'hello {{$context.body.id}}' });
    expect(withContentType(text, 'application/xml').config).toEqual({ contentType: 'application/xml', data: 'hello {{$context.body.id}}' });
    expect(withContentType(text, 'application/x-www-form-urlencoded').config).toEqual({ contentType: 'application/x-www-form-urlencoded' });
    // No content type means JSON; a list of pairs is form data only under form data.
    expect(withContentType(call({ data: [1, 2] }), 'text/plain').config).toEqual({ contentType: 'text/plain', data: [1, 2] });
  });

  it('says method and URL on its card, and shows problems at every config field', () => {
    expect(request.summary(call({ method: 'GET', url: '{{$env.SHOP_URL}}/orders' }))).toBe('GET {{$env.SHOP_URL}}/orders');
    expect(request.summary(call({}))).toBe('POST (no URL)');
    for (const field of ['method', 'url', 'contentType', 'headers', 'params', 'data', 'timeout', 'ignoreFail', 'onlyData', 'retry']) {
      expect(request.fields).toContain(`config.${field}`);
    }
  });
});
