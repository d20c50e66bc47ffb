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

describe('variable pickers in loops and parallel branches, and $env', () => {
  const looped: WorkflowDocument = {
    title: 't',
    sync: false,
    enabled: true,
    trigger: {
      type: 'webhook',
      request: { body: [{ key: 'items' }, { key: 'items[0].sku', alias: 'SKU' }, { key: 'items[0].qty' }, { key: 'total' }] },
    },
    nodes: [
      { key: 'fetch', type: 'request', config: {} },
      {
        key: 'each',
        type: 'loop',
        title: 'Each item',
        config: { target: '{{$context.body.items}}' },
        branches: {
          body: [
            { key: 'price', type: 'calculation', config: {} },
            {
              key: 'rows',
              type: 'loop',
              config: { target: '3' },
              branches: { body: [{ key: 'inner', type: 'end', config: {} }] },
            },
          ],
        },
      },
      {
        key: 'fan',
        type: 'parallel',
        config: { mode: 'all' },
        branches: { a: [{ key: 'left', type: 'delay', config: {} }], b: [{ key: 'right', type: 'delay', config: {} }] },
      },
      { key: 'after', type: 'end', config: {} },
    ],
  };
  const offered = (nodePath: string, label: string, env: { name: string; secret: boolean }[] = []) =>
    variableGroups(looped, nodePath, env)
      .find((g) => g.label === label)
      ?.options.map((o) => o.path) ?? [];

  it('offer the loop scope inside a loop body, the item paths its target declares included', () => {
    expect(offered('nodes[1].branches.body[0]', 'Loop scopes')).toEqual([
      '$scopes.each.item',
      '$scopes.each.item.sku',
      '$scopes.each.item.qty',
      '$scopes.each.index',
      '$scopes.each.length',
    ]);
    const labels = variableGroups(looped, 'nodes[1].branches.body[0]')
      .find((g) => g.label === 'Loop scopes')
      ?.options.map((o) => o.label);
    expect(labels?.[0]).toBe('Each item: current item');
  });

  it('offer every enclosing loop in a nested loop, innermost first', () => {
    expect(offered('nodes[1].branches.body[1].branches.body[0]', 'Loop scopes')).toEqual([
      '$scopes.rows.item',
      '$scopes.rows.index',
      '$scopes.rows.length',
      '$scopes.each.item',
      '$scopes.each.item.sku',
      '$scopes.each.item.qty',
      '$scopes.each.index',
      '$scopes.each.length',
    ]);
  });

  it('offer no loop scope outside loops, nor on the loop node itself', () => {
    expect(offered('nodes[1]', 'Loop scopes')).toEqual([]);
    expect(offered('nodes[3]', 'Loop scopes')).toEqual([]);
    expect(offered('nodes[2].branches.a[0]', 'Loop scopes')).toEqual([]);
  });

  it('do not offer a loop or parallel output inside its own branches, nor the other branch', () => {
    expect(offered('nodes[1].branches.body[0]', 'Earlier nodes')).toEqual(['$jobsMapByNodeKey.fetch']);
    expect(offered('nodes[2].branches.b[0]', 'Earlier nodes')).toEqual(['$jobsMapByNodeKey.each', '$jobsMapByNodeKey.fetch']);
    expect(offered('nodes[3]', 'Earlier nodes')).toEqual([
      '$jobsMapByNodeKey.fan',
      '$jobsMapByNodeKey.each',
      '$jobsMapByNodeKey.fetch',
    ]);
  });

  it('offer the $env variables to nodes, secrets marked, and none to trigger fields', () => {
    const env = [
      { name: 'SHOP_URL', secret: false },
      { name: 'SHOP_TOKEN', secret: true },
    ];
    expect(offered('nodes[0]', 'Variables ($env)', env)).toEqual(['$env.SHOP_URL', '$env.SHOP_TOKEN']);
    const group = variableGroups(looped, 'nodes[0]', env).find((g) => g.label === 'Variables ($env)');
    expect(group?.options.map((o) => o.label)).toEqual(['SHOP_URL', 'SHOP_TOKEN (secret)']);
    expect(variableGroups(looped, null, env).map((g) => g.label)).not.toContain('Variables ($env)');
    // No variables: no empty group.
    expect(variableGroups(looped, 'nodes[0]').map((g) => g.label)).not.toContain('Variables ($env)');
  });

  it('insert CEL names for scopes and env in CEL fields', () => {
    expect(celName('$scopes.each.item.sku')).toBe('scopes.each.item.sku');
    expect(celName('$env.SHOP_TOKEN')).toBe('env.SHOP_TOKEN');
  });
});
