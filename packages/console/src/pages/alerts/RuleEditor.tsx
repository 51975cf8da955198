import { useState, type FormEvent } from 'react';
import type { AlertCondition, AlertRule, AlertSeverity } from '@flotilla/sdk';
import { ListingTable, type Column } from '../../app/DataTable.tsx';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { useSession } from '../../app/session.tsx';
import { useAction } from '../../app/use-action.ts';
import { useAsync } from '../../app/use-async.ts';

/** A starting point for each kind of condition (docs/alerts.md), edited as JSON. */
export const TEMPLATES: Record<string, AlertCondition> = {
  threshold: { type: 'threshold', metric: 'system.temperature', op: '>', value: 70, for: '30s', clear: 65 },
  battery: { type: 'battery', below: 20, for: '1m' },
  offline: { type: 'offline', for: '2m' },
  no_data: { type: 'no_data', metric: 'battery.soc', for: '5m' },
  rate: { type: 'rate', metric: 'battery.soc', op: '<', value: -2, per: 'minute', window: '5m' },
  'battery or offline': {
    or: [
      { type: 'battery', below: 15 },
      { type: 'offline', for: '5m' },
    ],
  },
};

interface Draft {
  id?: string;
  name: string;
  description: string;
  selector: string;
  severity: AlertSeverity;
  condition: string;
}

const EMPTY: Draft = {
  name: '',
  description: '',
  selector: '',
  severity: 'warning',
  condition: JSON.stringify(TEMPLATES['threshold'], null, 2),
};

function draftOf(rule: AlertRule): Draft {
  return {
    id: rule.id,
    name: rule.name,
    description: rule.description ?? '',
    selector: rule.selector ?? '',
    severity: rule.severity,
    condition: JSON.stringify(rule.condition, null, 2),
  };
}

/** Alert rules: listed for every reader; created, edited, enabled, disabled and deleted with `alerts:configure`. */
export function RuleEditor() {
  const { client, can } = useSession();
  const editable = can('alerts:configure');
  const [rules, reload] = useAsync((signal) => client.alerts.listRules({ signal }), [client]);
  const [draft, setDraft] = useState<Draft | undefined>(undefined);
  const { run, busy, error, setError } = useAction(reload);

  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!draft) return;
    let condition: AlertCondition;
    try {
      condition = JSON.parse(draft.condition) as AlertCondition;
    } catch {
      setError(new Error('The condition is not JSON'));
      return;
    }
    const body = {
      name: draft.name,
      severity: draft.severity,
      condition,
      ...(draft.description ? { description: draft.description } : {}),
    };
    const ok = await run(() =>
      draft.id
        ? client.alerts.updateRule(draft.id, {
            ...body,
            description: draft.description || null,
            selector: draft.selector || null,
          })
        : client.alerts.createRule({ ...body, ...(draft.selector ? { selector: draft.selector } : {}) }),
    );
    if (ok) setDraft(undefined);
  };

  const set = (change: Partial<Draft>): void => setDraft((d) => (d ? { ...d, ...change } : d));

  const columns: Array<Column<AlertRule> | false> = [
    {
      header: 'Rule',
      cell: (r) => (
        <>
          <b>{r.name}</b>
          {r.description && <div className="muted">{r.description}</div>}
        </>
      ),
    },
    { header: 'Severity', cell: (r) => <span className={`badge ${r.severity}`}>{r.severity}</span> },
    { header: 'Selector', className: 'mono', cell: (r) => r.selector ?? 'all' },
    {
      header: 'Condition',
      className: 'mono',
      style: { fontSize: '0.8rem', maxWidth: 320, overflowWrap: 'anywhere' },
      cell: (r) => JSON.stringify(r.condition),
    },
    { header: 'Enabled', cell: (r) => (r.enabled ? 'yes' : 'no') },
    editable && {
      header: 'Actions',
      hideHeader: true,
      cell: (r) => (
        <div className="row">
          <button type="button" onClick={() => setDraft(draftOf(r))} aria-label={`Edit ${r.name}`}>
            Edit
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => void run(() => client.alerts.updateRule(r.id, { enabled: !r.enabled }))}
            aria-label={`${r.enabled ? 'Disable' : 'Enable'} ${r.name}`}
          >
            {r.enabled ? 'Disable' : 'Enable'}
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              if (confirm(`Delete rule ${r.name}? Its open alerts are resolved.`))
                void run(() => client.alerts.deleteRule(r.id));
            }}
            aria-label={`Delete ${r.name}`}
          >
            Delete
          </button>
        </div>
      ),
    },
  ];

  return (
    <section className="panel" aria-label="Alert rules">
      <div className="spread">
        <h2>Rules</h2>
        {editable && !draft && (
          <button type="button" className="primary" onClick={() => setDraft(EMPTY)}>
            New rule
          </button>
        )}
      </div>
      {error !== undefined && <ErrorMessage error={error} />}
      {draft && (
        <form
          onSubmit={(e) => void save(e)}
          aria-label={draft.id ? `Edit rule ${draft.name}` : 'New rule'}
          style={{ display: 'flex', flexDirection: 'column', gap: '0.6rem', marginBottom: '1rem' }}
        >
          <div className="row">
            <label className="field">
              Name
              <input required value={draft.name} onChange={(e) => set({ name: e.target.value })} />
            </label>
            <label className="field">
              Severity
              <select value={draft.severity} onChange={(e) => set({ severity: e.target.value as AlertSeverity })}>
                <option value="info">info</option>
                <option value="warning">warning</option>
                <option value="critical">critical</option>
              </select>
            </label>
            <label className="field grow">
              Selector
              <input
                placeholder="site=lab,zone in (a,b) (empty: every device)"
                value={draft.selector}
                onChange={(e) => set({ selector: e.target.value })}
              />
            </label>
          </div>
          <label className="field">
            Description
            <input value={draft.description} onChange={(e) => set({ description: e.target.value })} />
          </label>
          <label className="field">
            Start from
            <select
              value=""
              onChange={(e) => e.target.value && set({ condition: JSON.stringify(TEMPLATES[e.target.value], null, 2) })}
            >
              <option value="">a template…</option>
              {Object.keys(TEMPLATES).map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            Condition (JSON; docs/alerts.md)
            <textarea
              className="mono"
              rows={8}
              value={draft.condition}
              onChange={(e) => set({ condition: e.target.value })}
            />
          </label>
          <div className="row">
            <button className="primary" type="submit" disabled={busy}>
              {draft.id ? 'Save rule' : 'Create rule'}
            </button>
            <button type="button" onClick={() => setDraft(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <ListingTable listing={rules} failed="Cannot load rules" columns={columns} empty="No rules." />
    </section>
  );
}
