import { describe, expect, it } from 'vitest';

import { celName } from '../components/TemplateInput';
import type { WorkflowDocument } from './types';
import { template, variableGroups } from './variables';

const doc: WorkflowDocument = {
  title: 't',
  sync: true,
  enabled: true,
  trigger: {
    type: 'webhook',
    request: {
      headers: [{ key: 'X-Request-Id' }],
      query: [{ key: 'source', alias: 'Source' }],
      body: [{ key: 'order.id' }, { key: '' }],
    },
  },
  nodes: [
    { key: 'total', type: 'calculation', title: 'Total', config: {} },
    {
      key: 'paid',
      type: 'condition',
      config: {},
      branches: { true: [{ key: 'ok', type: 'response', config: {} }], false: [] },
    },
    { key: 'after', type: 'end', config: {} },
  ],
};

const paths = (nodePath: string | null, label: string) =>
  variableGroups(doc, nodePath)
    .find((g) => g.label === label)
    ?.options.map((o) => o.path) ?? [];

describe('variable pickers', () => {
  it('offer the declared variables as $context paths, headers in lower case', () => {
    expect(paths(null, 'Trigger variables')).toEqual([
      '$context.headers.x-request-id',
      '$context.query.source',
      '$context.body.order.id',
    ]);
    const source = variableGroups(doc, null)[0].options[1];
    expect(source.label).toBe('Source (query.source)');
  });

  it('offer the outputs of the nodes that ran before', () => {
    expect(paths('nodes[0]', 'Earlier nodes')).toEqual([]);
    expect(paths('nodes[1].branches.true[0]', 'Earlier nodes')).toEqual([
      '$jobsMapByNodeKey.paid',
      '$jobsMapByNodeKey.total',
    ]);
    expect(paths('nodes[2]', 'Earlier nodes')).toEqual(['$jobsMapByNodeKey.paid', '$jobsMapByNodeKey.total']);
    // Trigger fields run before any node.
    expect(variableGroups(doc, null).map((g) => g.label)).not.toContain('Earlier nodes');
  });

  it('insert templates, or CEL names in CEL fields', () => {
    expect(template('$context.body.id')).toBe('{{$context.body.id}}');
    expect(celName('$context.body.order.id')).toBe('context.body.order.id');
    expect(celName('$context.headers.x-request-id')).toBe('context.headers["x-request-id"]');
    expect(celName('$jobsMapByNodeKey.total')).toBe('jobs.total');
    expect(celName('$execution.id')).toBeNull();
  });
});
