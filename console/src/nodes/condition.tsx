import { FieldProblems } from '../components/common';
import { SelectField, CheckField } from '../components/fields';
import { TemplateInput, VariablePicker } from '../components/TemplateInput';
import type { Json, JsonObject, Problem } from '../model/types';
import { variableGroups, type VariableGroup } from '../model/variables';
import { ConfigProblems, NodeIdentity, setConfig } from './common';
import type { NodeFormProps, NodeTypeSpec } from './registry';

export const CALCULATORS: { value: string; label: string }[] = [
  { value: 'equal', label: '= equal' },
  { value: 'notEqual', label: '≠ not equal' },
  { value: 'gt', label: '> greater than' },
  { value: 'gte', label: '≥ at least' },
  { value: 'lt', label: '< less than' },
  { value: 'lte', label: '≤ at most' },
  { value: 'includes', label: 'includes' },
  { value: 'notIncludes', label: 'does not include' },
  { value: 'startsWith', label: 'starts with' },
  { value: 'notStartsWith', label: 'does not start with' },
  { value: 'endsWith', label: 'ends with' },
  { value: 'notEndsWith', label: 'does not end with' },
];

export interface Group {
  type: 'and' | 'or';
  calculations: Item[];
}
export type Item = { calculator: string; operands: [Json, Json] } | { group: Group };

export function emptyCalculation(): Item {
  return { calculator: 'equal', operands: ['', ''] };
}

/** The group of a condition's config, whatever shape it arrived in. */
export function groupOf(config: JsonObject): Group {
  const raw = (config.calculation as JsonObject | undefined)?.group as JsonObject | undefined;
  return {
    type: raw?.type === 'or' ? 'or' : 'and',
    calculations: Array.isArray(raw?.calculations) ? (raw.calculations as unknown as Item[]) : [],
  };
}

function operandText(value: Json): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function GroupEditor({
  group,
  onChange,
  groups,
  depth,
  onRemove,
}: {
  group: Group;
  onChange: (group: Group) => void;
  groups: VariableGroup[];
  depth: number;
  onRemove?: () => void;
}) {
  const setItem = (index: number, item: Item) =>
    onChange({ ...group, calculations: group.calculations.map((c, i) => (i === index ? item : c)) });
  const remove = (index: number) => onChange({ ...group, calculations: group.calculations.filter((_, i) => i !== index) });
  return (
    <div className={`calc-group depth-${depth}`} role="group" aria-label={depth === 0 ? 'Conditions' : 'Nested group'}>
      <div className="calc-group-head">
        <SelectField
          label={depth === 0 ? 'Match' : 'Nested group: match'}
          value={group.type}
          options={[
            { value: 'and', label: 'all of these (and)' },
            { value: 'or', label: 'any of these (or)' },
          ]}
          onChange={(type) => onChange({ ...group, type })}
        />
        {onRemove && (
          <button type="button" className="link danger" onClick={onRemove}>
            Remove group
          </button>
        )}
      </div>
      {group.calculations.length === 0 && <p className="hint">An empty group is true.</p>}
      {group.calculations.map((item, i) =>
        'group' in item ? (
          <GroupEditor
            key={i}
            group={{ type: item.group.type === 'or' ? 'or' : 'and', calculations: item.group.calculations ?? [] }}
            onChange={(g) => setItem(i, { group: g })}
            groups={groups}
            depth={depth + 1}
            onRemove={() => remove(i)}
          />
        ) : (
          <div className="calc-row" key={i} role="group" aria-label={`Condition ${i + 1}`}>
            <OperandInput
              label={`Condition ${i + 1} left operand`}
              value={operandText(item.operands?.[0] ?? '')}
              onChange={(a) => setItem(i, { ...item, operands: [a, item.operands?.[1] ?? ''] })}
              groups={groups}
            />
            <select
              aria-label={`Condition ${i + 1} calculator`}
              value={item.calculator}
              onChange={(e) => setItem(i, { ...item, calculator: e.target.value })}
            >
              {CALCULATORS.some((c) => c.value === item.calculator) ? null : <option value={item.calculator}>{item.calculator}</option>}
              {CALCULATORS.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
            <OperandInput
              label={`Condition ${i + 1} right operand`}
              value={operandText(item.operands?.[1] ?? '')}
              onChange={(b) => setItem(i, { ...item, operands: [item.operands?.[0] ?? '', b] })}
              groups={groups}
            />
            <button type="button" className="icon" aria-label={`Remove condition ${i + 1}`} onClick={() => remove(i)}>
              ✕
            </button>
          </div>
        ),
      )}
      <div className="actions">
        <button type="button" onClick={() => onChange({ ...group, calculations: [...group.calculations, emptyCalculation()] })}>
          Add condition
        </button>
        {depth < 3 && (
          <button
            type="button"
            onClick={() =>
              onChange({ ...group, calculations: [...group.calculations, { group: { type: 'and', calculations: [emptyCalculation()] } }] })
            }
          >
            Add group
          </button>
        )}
      </div>
    </div>
  );
}

function OperandInput({
  label,
  value,
  onChange,
  groups,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  groups: VariableGroup[];
}) {
  return (
    <span className="operand">
      <input aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} spellCheck={false} />
      <VariablePicker groups={groups} label={label} onPick={(text) => onChange(value + text)} />
    </span>
  );
}

/**
 * The engine and its test, as a condition node's config and a loop's `condition` hold them:
 * `engine` `basic` with `calculation.group`, or `cel` with `expression`. `at` is the document
 * path of that object, for the problems.
 */
export function ConditionFields({
  value,
  onChange,
  groups,
  problems,
  at,
  celLabel = 'CEL expression (true or false)',
}: {
  value: JsonObject;
  onChange: (value: JsonObject) => void;
  groups: VariableGroup[];
  problems: Problem[];
  at: string;
  celLabel?: string;
}) {
  const engine = value.engine === 'cel' ? 'cel' : 'basic';
  const under = (field: string) => problems.filter((p) => p.path === `${at}.${field}` || p.path.startsWith(`${at}.${field}.`));
  return (
    <>
      <SelectField
        label="Engine"
        value={engine}
        options={[
          { value: 'basic', label: 'Basic (calculator groups)' },
          { value: 'cel', label: 'CEL expression' },
        ]}
        onChange={(next) => onChange({ ...value, engine: next })}
        problems={under('engine')}
      />
      {engine === 'basic' ? (
        <>
          <GroupEditor
            group={groupOf(value)}
            onChange={(group) => onChange({ ...value, calculation: { group } as unknown as Json })}
            groups={groups}
            depth={0}
          />
          <FieldProblems problems={under('calculation')} />
        </>
      ) : (
        <TemplateInput
          label={celLabel}
          multiline
          mode="cel"
          value={typeof value.expression === 'string' ? value.expression : ''}
          onChange={(expression) => onChange({ ...value, expression })}
          groups={groups}
          placeholder='context.body.status == "paid"'
          problems={under('expression')}
        />
      )}
    </>
  );
}

function ConditionForm(props: NodeFormProps) {
  const { node, path, doc, problems, onChange } = props;
  const groups = variableGroups(doc, path, props.env);
  return (
    <>
      <NodeIdentity {...props} />
      <ConditionFields
        value={node.config}
        onChange={(config) => onChange({ ...node, config })}
        groups={groups}
        problems={problems}
        at={`${path}.config`}
      />
      <CheckField
        label="Fail the workflow when false"
        checked={node.config.rejectOnFalse === true}
        onChange={(rejectOnFalse) => {
          const next = setConfig(node, 'rejectOnFalse', rejectOnFalse);
          // Without branches it would be refused; with rejectOnFalse they may stay.
          if (!rejectOnFalse) next.branches = { true: [], false: [], ...next.branches };
          onChange(next);
        }}
        hint="Otherwise the true or the false branch runs."
      />
      <ConfigProblems path={path} problems={problems} field="config.rejectOnFalse" />
    </>
  );
}

export const condition: NodeTypeSpec = {
  type: 'condition',
  label: 'Condition',
  description: 'Branches on calculations or a CEL expression',
  defaultConfig: () => ({
    rejectOnFalse: false,
    engine: 'basic',
    calculation: { group: { type: 'and', calculations: [{ calculator: 'equal', operands: ['', ''] }] } },
  }),
  branches: (node) => (node.config.rejectOnFalse === true && !node.branches ? [] : ['true', 'false']),
  terminates: () => false,
  summary: (node) => {
    if (node.config.engine === 'cel') return String(node.config.expression ?? '');
    const group = groupOf(node.config);
    const parts = group.calculations.map((item) =>
      'group' in item ? '(…)' : `${operandText(item.operands?.[0] ?? '')} ${item.calculator} ${operandText(item.operands?.[1] ?? '')}`,
    );
    return parts.join(group.type === 'or' ? ' or ' : ' and ') || 'always true';
  },
  fields: ['key', 'title', 'config.engine', 'config.calculation', 'config.expression', 'config.rejectOnFalse'],
  Form: ConditionForm,
};
