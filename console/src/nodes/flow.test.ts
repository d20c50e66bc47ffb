import { describe, expect, it } from 'vitest';

import type { WorkflowNode } from '../model/types';
import { addBranch, branchNameProblem, freshBranchName, removeBranch } from './flow';
import { loop, parallel } from './flow';

const fan = (): WorkflowNode => ({
  key: 'fan',
  type: 'parallel',
  config: { mode: 'all' },
  branches: { branch1: [{ key: 'a', type: 'delay', config: {} }], branch2: [] },
});

describe('parallel branches', () => {
  it('are added with a fresh name and removed with their nodes', () => {
    const node = fan();
    expect(freshBranchName(node)).toBe('branch3');
    const added = addBranch(node, 'audit');
    expect(Object.keys(added.branches ?? {})).toEqual(['branch1', 'branch2', 'audit']);
    expect(added.branches?.audit).toEqual([]);
    // The nodes of the other branches stay.
    expect(added.branches?.branch1).toEqual(node.branches?.branch1);
    const removed = removeBranch(added, 'branch1');
    expect(removed.branches).toEqual({ branch2: [], audit: [] });
    expect(freshBranchName(removed)).toBe('branch3');
    // The node it came from is not changed.
    expect(Object.keys(node.branches ?? {})).toEqual(['branch1', 'branch2']);
  });

  it('need a name that fits in a document path and is not taken', () => {
    const node = fan();
    expect(branchNameProblem(node, 'audit')).toBeNull();
    expect(branchNameProblem(node, 'send-mail_2')).toBeNull();
    expect(branchNameProblem(node, '')).toBe('Give the branch a name.');
    expect(branchNameProblem(node, 'a.b')).toMatch(/letters, digits/);
    expect(branchNameProblem(node, 'x[0]')).toMatch(/letters, digits/);
    expect(branchNameProblem(node, 'branch2')).toBe('There is a branch branch2 already.');
    expect(branchNameProblem({ ...node, branches: {} }, 'constructor')).toBeNull();
  });

  it('summarise mode and count on the card', () => {
    expect(parallel.summary(fan())).toBe('all of 2 branches');
    expect(loop.summary({ key: 'l', type: 'loop', config: { target: '{{$context.body.items}}' } })).toBe('over {{$context.body.items}}');
  });
});
