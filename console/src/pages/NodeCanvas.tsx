// The node chain drawn as NocoBase draws it: the trigger on top, nodes below one another,
// a branching node's branches side by side under it, and a + between any two nodes.

import { useEffect, useRef, useState } from 'react';

import { MAIN_CHAIN, branchPath, nodePath, ownerOf, getNode } from '../model/chain';
import { problemTarget } from '../model/problems';
import type { Problem, WorkflowNode } from '../model/types';
import { drawnBranches, nodeType, nodeTypes, terminates } from '../nodes';

export interface CanvasActions {
  add: (chain: string, index: number, type: string) => void;
  remove: (path: string) => void;
  move: (path: string, delta: -1 | 1) => void;
  select: (path: string) => void;
}

interface CanvasProps extends CanvasActions {
  nodes: WorkflowNode[];
  sync: boolean;
  selected: string | null;
  problems: Problem[];
}

function where(nodes: WorkflowNode[], chain: string, index: number): string {
  const owner = ownerOf(chain);
  if (owner === null) return `at step ${index + 1}`;
  const branch = chain.slice(owner.length + '.branches.'.length);
  return `to branch ${branch} of ${getNode(nodes, owner)?.key ?? owner}, step ${index + 1}`;
}

function AddNode({ chain, index, props }: { chain: string; index: number; props: CanvasProps }) {
  const [open, setOpen] = useState(false);
  const menu = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
  }, [open]);
  const label = `Add node ${where(props.nodes, chain, index)}`;
  return (
    <div className="add-node">
      <span className="line" aria-hidden="true" />
      <button ref={toggle} type="button" className="plus" aria-label={label} title={label} aria-expanded={open} onClick={() => setOpen(!open)}>
        +
      </button>
      {open && (
        <div
          className="add-menu"
          role="menu"
          ref={menu}
          aria-label={label}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setOpen(false);
              toggle.current?.focus();
            }
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              e.preventDefault();
              const items = [...(menu.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? [])];
              const at = items.indexOf(document.activeElement as HTMLButtonElement);
              const next = (at + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
              items[next]?.focus();
            }
          }}
        >
          {nodeTypes().map((spec) => {
            const refused = spec.syncOnly && !props.sync;
            return (
              <button
                key={spec.type}
                type="button"
                role="menuitem"
                disabled={refused}
                title={refused ? 'Only in sync workflows' : spec.description}
                onClick={() => {
                  setOpen(false);
                  props.add(chain, index, spec.type);
                }}
              >
                <strong>{spec.label}</strong>
                <span className="muted small">{refused ? 'only in sync workflows' : spec.description}</span>
              </button>
            );
          })}
          <button type="button" role="menuitem" className="link" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      )}
      <span className="line" aria-hidden="true" />
    </div>
  );
}

function NodeCard({ node, path, index, count, props }: { node: WorkflowNode; path: string; index: number; count: number; props: CanvasProps }) {
  const spec = nodeType(node.type);
  const problems = props.problems.filter((p) => problemTarget(p.path).node === path);
  const name = node.title || node.key;
  return (
    <div
      className={`node-card type-${node.type}${props.selected === path ? ' selected' : ''}${problems.length ? ' invalid' : ''}`}
      data-path={path}
    >
      <button type="button" className="node-main" onClick={() => props.select(path)} aria-pressed={props.selected === path}>
        <span className="node-type">{spec?.label ?? node.type}</span>
        <span className="node-title">{name}</span>
        <span className="node-summary">{spec ? spec.summary(node) : 'unknown type: edit it in the JSON tab'}</span>
        {problems.length > 0 && (
          <span className="badge status-error">
            {problems.length} problem{problems.length > 1 ? 's' : ''}
          </span>
        )}
      </button>
      <div className="node-actions">
        <button type="button" className="icon" aria-label={`Move ${name} up`} disabled={index === 0} onClick={() => props.move(path, -1)}>
          ↑
        </button>
        <button type="button" className="icon" aria-label={`Move ${name} down`} disabled={index === count - 1} onClick={() => props.move(path, 1)}>
          ↓
        </button>
        <button type="button" className="icon danger" aria-label={`Remove ${name}`} onClick={() => props.remove(path)}>
          ✕
        </button>
      </div>
    </div>
  );
}

function Chain({ nodes, chain, props }: { nodes: WorkflowNode[]; chain: string; props: CanvasProps }) {
  const items = [];
  let ended = false;
  items.push(
    <li key="add-0" className="chain-add">
      <AddNode chain={chain} index={0} props={props} />
    </li>,
  );
  nodes.forEach((node, i) => {
    const path = nodePath(chain, i);
    const branches = drawnBranches(node);
    items.push(
      <li key={`node-${i}-${node.key}`} className="chain-item">
        <NodeCard node={node} path={path} index={i} count={nodes.length} props={props} />
        {branches.length > 0 && (
          <div className="branches">
            {branches.map((name) => (
              <div className="branch" key={name} role="group" aria-label={`Branch ${name} of ${node.key}`}>
                <div className={`branch-label branch-${name}`}>{name}</div>
                <Chain nodes={node.branches?.[name] ?? []} chain={branchPath(path, name)} props={props} />
                <div className="branch-tail" aria-hidden="true" />
              </div>
            ))}
          </div>
        )}
      </li>,
    );
    ended = ended || terminates(node);
    if (!ended) {
      items.push(
        <li key={`add-${i + 1}`} className="chain-add">
          <AddNode chain={chain} index={i + 1} props={props} />
        </li>,
      );
    }
  });
  return <ol className="chain">{items}</ol>;
}

export function NodeCanvas(props: CanvasProps) {
  return (
    <div className="canvas" aria-label="Workflow nodes">
      <div className="node-card trigger-card">
        <div className="node-main static">
          <span className="node-type">Trigger</span>
          <span className="node-title">Webhook ({props.sync ? 'sync' : 'async'})</span>
        </div>
      </div>
      <Chain nodes={props.nodes} chain={MAIN_CHAIN} props={props} />
      <div className="end-marker">End</div>
    </div>
  );
}
