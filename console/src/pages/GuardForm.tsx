// The settings that decide which calls a webhook admits: signature, allowed addresses,
// rate limit and idempotency key. They live in the trigger beside the forms' own fields.

import { useId } from 'react';

import { FieldProblems } from '../components/common';
import { CheckField, SelectField, TextField } from '../components/fields';
import { TemplateInput } from '../components/TemplateInput';
import { fieldText, numberOrText } from '../model/form';
import type { Json, JsonObject, Problem, WorkflowDocument } from '../model/types';
import { variableGroups } from '../model/variables';

export const SIGNATURE_SCHEMES = ['stripe', 'github', 'standard-webhooks', 'shopify', 'slack', 'hmac'];

/** Trigger settings this form edits; their problems show here. */
export const GUARD_SETTINGS = ['signature', 'allowedIps', 'rateLimit', 'idempotencyKey', 'idempotencyWindow'];

export function GuardForm({
  settings,
  onChange,
  problems,
  doc,
}: {
  /** The trigger's settings beyond the forms' own (`FormModel.rest.trigger`). */
  settings: JsonObject;
  onChange: (settings: JsonObject) => void;
  problems: Problem[];
  doc: WorkflowDocument;
}) {
  const id = useId();
  const set = (name: string, value: Json | undefined) => {
    const next = { ...settings };
    if (value === undefined) delete next[name];
    else next[name] = value;
    onChange(next);
  };
  const under = (path: string) => problems.filter((p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`));
  const at = (path: string) => problems.filter((p) => p.path === path);

  const signature = settings.signature as JsonObject | undefined;
  const secrets = Array.isArray(signature?.secrets) ? (signature.secrets as string[]) : [];
  // Fields set to undefined or '' are dropped, so that the other schemes' checks stay quiet.
  const setSignature = (change: Record<string, Json | undefined>) => {
    const merged: Record<string, Json | undefined> = { ...signature, ...change };
    const next: JsonObject = {};
    for (const [k, v] of Object.entries(merged)) if (v !== undefined && v !== '') next[k] = v;
    set('signature', next);
  };
  const rateLimit = settings.rateLimit as JsonObject | undefined;
  const allowedIps = Array.isArray(settings.allowedIps) ? (settings.allowedIps as string[]) : null;

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Guarding</h2>
      <p className="hint">Checked by ingress before the request is parsed; callers that fail them start nothing.</p>

      <CheckField
        label="Signature"
        checked={signature !== undefined}
        onChange={(on) => set('signature', on ? { scheme: 'github', secrets: [''] } : undefined)}
        hint="An HMAC of the raw body, as the sending service computes it; a missing, stale or wrong one gets 401."
      />
      {signature && (
        <div className="indent">
          <div className="row-fields">
            <SelectField
              label="Scheme"
              value={fieldText(signature.scheme)}
              options={[
                ...(SIGNATURE_SCHEMES.includes(fieldText(signature.scheme)) ? [] : [{ value: fieldText(signature.scheme), label: fieldText(signature.scheme) }]),
                ...SIGNATURE_SCHEMES.map((s) => ({ value: s, label: s })),
              ]}
              onChange={(scheme) =>
                setSignature(
                  scheme === 'hmac' ? { scheme } : { scheme, header: undefined, algorithm: undefined, encoding: undefined, prefix: undefined },
                )
              }
              problems={at('trigger.signature.scheme')}
            />
            <TextField
              label="Tolerance (s)"
              inputMode="numeric"
              placeholder="300"
              value={fieldText(signature.tolerance)}
              onChange={(v) => setSignature({ tolerance: numberOrText(v) })}
              problems={at('trigger.signature.tolerance')}
            />
          </div>
          {signature.scheme === 'hmac' && (
            <div className="row-fields">
              <TextField
                label="Header"
                placeholder="X-Signature"
                value={fieldText(signature.header)}
                onChange={(v) => setSignature({ header: v })}
                problems={at('trigger.signature.header')}
              />
              <SelectField
                label="Algorithm"
                value={fieldText(signature.algorithm) || 'sha256'}
                options={['sha256', 'sha1', 'sha512'].map((a) => ({ value: a, label: a }))}
                onChange={(v) => setSignature({ algorithm: v })}
                problems={at('trigger.signature.algorithm')}
              />
              <SelectField
                label="Encoding"
                value={fieldText(signature.encoding) || 'hex'}
                options={['hex', 'base64'].map((e) => ({ value: e, label: e }))}
                onChange={(v) => setSignature({ encoding: v })}
                problems={at('trigger.signature.encoding')}
              />
              <TextField
                label="Prefix"
                placeholder="sha256="
                value={fieldText(signature.prefix)}
                onChange={(v) => setSignature({ prefix: v })}
                problems={at('trigger.signature.prefix')}
              />
            </div>
          )}
          <fieldset className="header-table">
            <legend>Secrets (the first signs; later ones are accepted while rotating)</legend>
            {secrets.map((secret, i) => (
              <div className="row secrets" key={i}>
                <input
                  type="password"
                  autoComplete="off"
                  aria-label={`Secret ${i + 1}`}
                  value={secret}
                  onChange={(e) => setSignature({ secrets: secrets.map((s, j) => (j === i ? e.target.value : s)) })}
                />
                <button
                  type="button"
                  className="icon"
                  aria-label={`Remove secret ${i + 1}`}
                  onClick={() => setSignature({ secrets: secrets.filter((_, j) => j !== i) })}
                >
                  ✕
                </button>
                <FieldProblems problems={at(`trigger.signature.secrets[${i}]`)} />
              </div>
            ))}
            {secrets.includes('********') && <p className="hint">******** keeps the stored secret; type a new one to replace it.</p>}
            <FieldProblems problems={at('trigger.signature.secrets')} />
            <button type="button" onClick={() => setSignature({ secrets: [...secrets, ''] })}>
              Add secret
            </button>
          </fieldset>
          <FieldProblems problems={at('trigger.signature')} />
        </div>
      )}

      <CheckField
        label="Allowed addresses"
        checked={allowedIps !== null}
        onChange={(on) => set('allowedIps', on ? [] : undefined)}
        hint="Only callers from these IP addresses or CIDR ranges; others get 403."
      />
      {allowedIps && (
        <div className="indent field">
          <label htmlFor={`${id}-ips`}>Addresses and ranges, one per line</label>
          <textarea
            id={`${id}-ips`}
            rows={3}
            spellCheck={false}
            placeholder={'10.0.0.0/8\n2001:db8::/32'}
            value={allowedIps.join('\n')}
            onChange={(e) => set('allowedIps', e.target.value.split('\n').map((l) => l.trim()).filter((l, i, all) => l !== '' || i < all.length - 1))}
            aria-invalid={under('trigger.allowedIps').length > 0 ? true : undefined}
          />
          <FieldProblems problems={under('trigger.allowedIps')} />
        </div>
      )}

      <CheckField
        label="Rate limit"
        checked={rateLimit !== undefined}
        onChange={(on) => set('rateLimit', on ? { perSecond: 10 } : undefined)}
        hint="Calls beyond it get 429 with Retry-After (counted after authentication)."
      />
      {rateLimit && (
        <div className="indent row-fields">
          <TextField
            label="Calls per second"
            value={fieldText(rateLimit.perSecond)}
            onChange={(v) => set('rateLimit', { ...rateLimit, perSecond: numberOrText(v) ?? '' })}
            problems={at('trigger.rateLimit.perSecond')}
          />
          <TextField
            label="Burst"
            inputMode="numeric"
            placeholder="as many as per second"
            value={fieldText(rateLimit.burst)}
            onChange={(v) => {
              const next: JsonObject = { ...rateLimit, burst: numberOrText(v) ?? null };
              if (next.burst === null) delete next.burst;
              set('rateLimit', next);
            }}
            problems={at('trigger.rateLimit.burst')}
          />
        </div>
      )}

      <TemplateInput
        label="Idempotency key"
        value={fieldText(settings.idempotencyKey)}
        onChange={(v) => set('idempotencyKey', v === '' ? undefined : v)}
        groups={variableGroups(doc, null)}
        placeholder="{{$context.headers.x-request-id}}"
        problems={under('trigger.idempotencyKey')}
        hint="A repeat of a key within the window starts nothing; the caller gets the first call's answer."
      />
      {settings.idempotencyKey !== undefined && (
        <TextField
          label="Idempotency window (ms)"
          inputMode="numeric"
          placeholder="259200000 (72 h)"
          value={fieldText(settings.idempotencyWindow)}
          onChange={(v) => set('idempotencyWindow', numberOrText(v))}
          problems={at('trigger.idempotencyWindow')}
        />
      )}
    </section>
  );
}
