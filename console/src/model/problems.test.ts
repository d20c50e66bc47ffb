import { describe, expect, it } from 'vitest';

import { describePath, nodeProblems, problemCounts, problemTarget, problemsAt, sectionProblems } from './problems';

// Paths as config-api's 422 answers name them (config-api/tests/api/validation.rs).
const problems = [
  { path: 'title', message: 'title must not be empty' },
  { path: 'trigger.request.headers[0].key', message: 'authorization is never copied' },
  { path: 'trigger.response.statusCode', message: 'between 200 and 599' },
  { path: 'trigger.signature.scheme', message: 'unknown scheme' },
  { path: 'options.timeout', message: 'must be positive' },
  { path: 'nodes[0].type', message: 'unknown node type' },
  { path: 'nodes[1].key', message: 'already used' },
  { path: 'nodes[1]', message: 'a response node only runs in a sync workflow' },
  { path: 'nodes[2].config.calculation', message: 'group.calculations[0].calculator: unknown calculator' },
  { path: 'nodes[2].branches.true', message: 'needs a true branch' },
  { path: 'nodes[2].branches.false[0].config.statusCode', message: 'between 200 and 599' },
  { path: '', message: 'the document must be an object' },
];

describe('422 problems', () => {
  it('are placed in the section and node they name', () => {
    expect(problemTarget('title')).toEqual({ section: 'general', node: null, field: 'title' });
    expect(problemTarget('trigger.request.headers[0].key').section).toBe('trigger');
    expect(problemTarget('options.timeout').section).toBe('trigger');
    expect(problemTarget('nodes[1]')).toEqual({ section: 'nodes', node: 'nodes[1]', field: '' });
    expect(problemTarget('nodes[2].branches.true')).toEqual({ section: 'nodes', node: 'nodes[2]', field: 'branches.true' });
    expect(problemTarget('nodes[2].branches.false[0].config.statusCode')).toEqual({
      section: 'nodes',
      node: 'nodes[2].branches.false[0]',
      field: 'config.statusCode',
    });
    expect(problemTarget('').section).toBe('document');
  });

  it('show at their field, and the rest on the node card or section', () => {
    expect(problemsAt(problems, 'trigger.response.statusCode')).toHaveLength(1);
    const fields = ['key', 'config.calculation'];
    expect(nodeProblems(problems, 'nodes[1]', fields).map((p) => p.message)).toEqual([
      'a response node only runs in a sync workflow',
    ]);
    expect(nodeProblems(problems, 'nodes[2]', fields).map((p) => p.path)).toEqual(['nodes[2].branches.true']);
    expect(
      sectionProblems(problems, 'trigger', ['trigger.response.statusCode', 'options.timeout', 'trigger.request.headers[0].key']).map(
        (p) => p.path,
      ),
    ).toEqual(['trigger.signature.scheme']);
  });

  it('are counted per section and described in words', () => {
    expect(problemCounts(problems)).toEqual({ general: 1, trigger: 4, nodes: 6, document: 1 });
    expect(describePath('nodes[2].branches.false[0].config.statusCode')).toBe('node nodes[2].branches.false[0], config.statusCode');
    expect(describePath('')).toBe('the document');
  });
});
