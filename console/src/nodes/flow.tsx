// The nodes that shape the flow: loop (its body once per item) and parallel (named branches
// at the same time).

import { useState } from 'react';

import { FieldProblems } from '../components/common';
import { CheckField, SelectField } from '../components/fields';
import { TemplateInput } from '../components/TemplateInput';
import { branchPath, nodePath } from '../model/chain';
import { fieldText, numberOrText } from '../model/form';
import { problemsAt } from '../model/problems';
import type { Json, JsonObject, WorkflowNode } from '../model/types';
import { variableGroups } from '../model/variables';
import { ConditionFields, emptyCalculation } from './condition';
import { NodeIdentity, setConfig } from './common';
import type { NodeFormProps, NodeTypeSpec } from './registry';

export const LOOP_BODY = 'body';

export const LOOP_EXITS = [
  { value: 'fail', label: 'Fail the workflow (fail)' },
  { value: 'break', label: 'Leave the loop, go on after it (break)' },
  { value: 'continue', label: 'Go on with the next item (continue)' },
];

export function defaultLoopCondition(): JsonObject {
  return { engine: 'basic', calculation: { group: { type: 'and', calculations: [emptyCalculation() as unknown as Json] } } };
}

function LoopForm(props: NodeFormProps) {
  const { node, path, doc, problems, onChange } = props;
  const groups = variableGroups(doc, path, props.env);
  // The condition is checked before each iteration, where the loop's own scope exists.
  const insideGroups = variableGroups(doc, nodePath(branchPath(path, LOOP_BODY), 0), props.env);
  const condition = node.config.condition && typeof node.config.condition === 'object' && !Array.isArray(node.config.condition)
    ? (node.config.condition as JsonObject)
    : null;
  const exit = typeof node.config.exit === 'string' ? node.config.exit : 'fail';
  return (
    <>
      <NodeIdentity {...props} />
      <TemplateInput
        label="Target"
        value={fieldText(node.config.target)}
        // A number typed is a count; anything else a template (or a value that runs once).
        onChange={(target) => onChange(setConfig(node, 'target', numberOrText(target)))}
        groups={groups}
        placeholder="{{$context.body.items}}"
        problems={problemsAt(problems, `${path}.config.target`)}
        hint="An array runs the body once per item, a number that many times, anything else once."
      />
      <p className="hint">
        Inside the body: <code>{`{{$scopes.${node.key}.item}}`}</code>, <code>.index</code> (from 0) and <code>.length</code>.
      </p>
      <CheckField
        label="Check a condition before each iteration"
        checked={condition !== null}
        onChange={(on) => onChange(setConfig(node, 'condition', on ? defaultLoopCondition() : undefined))}
        hint="When it is false the loop ends."
      />
      {condition !== null && (
        <div className="indent">
          <ConditionFields
            value={condition}
            onChange={(value) => onChange(setConfig(node, 'condition', value))}
            groups={insideGroups}
            problems={problems}
            at={`${path}.config.condition`}
          />
        </div>
      )}
      <FieldProblems problems={problemsAt(problems, `${path}.config.condition`)} />
      <SelectField
        label="When an iteration fails"
        value={LOOP_EXITS.some((e) => e.value === exit) ? exit : 'fail'}
        options={LOOP_EXITS}
        onChange={(value) => onChange(setConfig(node, 'exit', value === 'fail' ? undefined : value))}
        problems={problemsAt(problems, `${path}.config.exit`)}
      />
    </>
  );
}

export const loop: NodeTypeSpec = {
  type: 'loop',
  label: 'Loop',
  description: 'Runs its body once per item of a list',
  // No target yet: config-api names it until one is given.
  defaultConfig: () => ({}),
  branches: () => [LOOP_BODY],
  terminates: () => false,
  summary: (node) => `over ${fieldText(node.config.target) || '?'}${node.config.condition ? ' while …' : ''}`,
  fields: ['key', 'title', 'config.target', 'config.condition', 'config.exit'],
  Form: LoopForm,
};

export const PARALLEL_MODES = [
  { value: 'all', label: 'All: every branch must resolve (all)' },
  { value: 'any', label: 'Any: one resolved branch is enough (any)' },
  { value: 'race', label: 'Race: the first branch to finish decides (race)' },
];

/** Branch names that fit in a document path (`branches.<name>`) and read well in one. */
const BRANCH_NAME = /^[A-Za-z0-9_-]+$/;

/** Why `name` cannot name a new branch of `node`; `null` when it can. */
export function branchNameProblem(node: WorkflowNode, name: string): string | null {
  if (name === '') return 'Give the branch a name.';
  if (!BRANCH_NAME.test(name)) return 'Use letters, digits, - and _ only.';
  if (Object.prototype.hasOwnProperty.call(node.branches ?? {}, name)) return `There is a branch ${name} already.`;
  return null;
}

/** A name no branch of `node` has: `branch3` after `branch1` and `branch2`. */
export function freshBranchName(node: WorkflowNode): string {
  for (let n = Object.keys(node.branches ?? {}).length + 1; ; n++) {
    if (!Object.prototype.hasOwnProperty.call(node.branches ?? {}, `branch${n}`)) return `branch${n}`;
  }
}

export function addBranch(node: WorkflowNode, name: string): WorkflowNode {
  return { ...node, branches: { ...node.branches, [name]: [] } };
}

export function removeBranch(node: WorkflowNode, name: string): WorkflowNode {
  const branches = { ...node.branches };
  delete branches[name];
  return { ...node, branches };
}

function ParallelForm(props: NodeFormProps) {
  const { node, path, problems, onChange } = props;
  const [name, setName] = useState(() => freshBranchName(node));
  const [tried, setTried] = useState(false);
  const mode = typeof node.config.mode === 'string' ? node.config.mode : 'all';
  const names = Object.keys(node.branches ?? {});
  const problem = branchNameProblem(node, name.trim());
  const add = () => {
    setTried(true);
    if (problem) return;
    const next = addBranch(node, name.trim());
    onChange(next);
    setName(freshBranchName(next));
    setTried(false);
  };
  const remove = (branch: string) => {
    const inner = node.branches?.[branch]?.length ?? 0;
    if (inner > 0 && !window.confirm(`Remove branch ${branch} and the ${inner} node(s) in it?`)) return;
    onChange(removeBranch(node, branch));
  };
  return (
    <>
      <NodeIdentity {...props} />
      <SelectField
        label="Mode"
        value={PARALLEL_MODES.some((m) => m.value === mode) ? mode : 'all'}
        options={PARALLEL_MODES}
        onChange={(value) => onChange(setConfig(node, 'mode', value))}
        problems={problemsAt(problems, `${path}.config.mode`)}
      />
      <fieldset className="header-table" aria-label="Branches">
        <legend>Branches (they run at the same time)</legend>
        <FieldProblems problems={[...problemsAt(problems, `${path}.branches`), ...problemsAt(problems, path)]} />
        {names.length < 2 && <p className="hint">A parallel node needs two branches or more.</p>}
        <ul className="branch-list">
          {names.map((branch) => (
            <li key={branch}>
              <code>{branch}</code>
              <span className="muted small">{node.branches?.[branch]?.length ?? 0} node(s)</span>
              <button type="button" className="icon danger" aria-label={`Remove branch ${branch}`} onClick={() => remove(branch)}>
                ✕
              </button>
            </li>
          ))}
        </ul>
        <div className="parse-row">
          <input
            aria-label="New branch name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                add();
              }
            }}
            aria-invalid={tried && problem ? true : undefined}
            spellCheck={false}
          />
          <button type="button" onClick={add}>
            Add branch
          </button>
        </div>
        {tried && problem && (
          <p className="error-text" role="alert">
            {problem}
          </p>
        )}
      </fieldset>
      <p className="hint">
        Branches no longer needed are stopped; their running jobs are recorded as aborted. A response node in a branch answers
        the caller and ends the whole workflow.
      </p>
    </>
  );
}

export const parallel: NodeTypeSpec = {
  type: 'parallel',
  label: 'Parallel',
  description: 'Runs named branches at the same time',
  defaultConfig: () => ({ mode: 'all' }),
  // A new node gets two branches; after that the document's branches are the node's own.
  branches: (node) => (node.branches ? Object.keys(node.branches) : ['branch1', 'branch2']),
  terminates: () => false,
  summary: (node) => `${fieldText(node.config.mode) || 'all'} of ${Object.keys(node.branches ?? {}).length} branches`,
  fields: ['key', 'title', 'config.mode', 'branches'],
  Form: ParallelForm,
};
