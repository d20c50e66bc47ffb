import { SelectField, CheckField } from '../components/fields';
import { TemplateInput, VariablePicker } from '../components/TemplateInput';
import type { Json, JsonObject } from '../model/types';
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

function ConditionForm(props: NodeFormProps) {
  const { node, path, doc, problems, onChange } = props;
  const engine = node.config.engine === 'cel' ? 'cel' : 'basic';
  const groups = variableGroups(doc, path);
  const setGroup = (group: Group) => onChange(setConfig(node, 'calculation', { group } as unknown as Json));
  return (
    <>
      <NodeIdentity {...props} />
      <SelectField
        label="Engine"
        value={engine}
        options={[
          { value: 'basic', label: 'Basic (calculator groups)' },
          { value: 'cel', label: 'CEL expression' },
        ]}
        onChange={(value) => onChange(setConfig(node, 'engine', value))}
        problems={problems.filter((p) => p.path === `${path}.config.engine`)}
      />
      {engine === 'basic' ? (
        <>
          <GroupEditor group={groupOf(node.config)} onChange={setGroup} groups={groups} depth={0} />
          <ConfigProblems path={path} problems={problems} field="config.calculation" />
        </>
      ) : (
        <TemplateInput
          label="CEL expression (true or false)"
          multiline
          mode="cel"
          value={typeof node.config.expression === 'string' ? node.config.expression : ''}
          onChange={(expression) => onChange(setConfig(node, 'expression', expression))}
          groups={groups}
          placeholder='context.body.status == "paid"'
          problems={problems.filter((p) => p.path === `${path}.config.expression`)}
        />
      )}
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
