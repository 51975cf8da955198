import { useMemo, useState, type FormEvent } from 'react';
import type { CommandRecord, Device } from '@flotilla/sdk';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { duration } from '../../app/format.ts';
import { useSession } from '../../app/session.tsx';
import { useSchemas } from '../../app/use-schemas.ts';
import { buildArgs, SchemaFields, type FormValues, type Schema } from './schema-form.tsx';

/** What came of the last send: the record, or why the hub refused it. */
type Outcome = { record: CommandRecord } | { error: unknown } | undefined;

export function CommandResult({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  if ('error' in outcome) return <ErrorMessage error={outcome.error} what="Not sent" />;
  const { record } = outcome;
  const took = record.completedAt !== null ? ` in ${duration(record.completedAt - record.issuedAt)}` : '';
  const ok = record.status === 'succeeded' || record.status === 'delivered';
  return (
    <div className={ok ? 'ok-box' : 'error-box'} role="status" aria-label="Command result">
      <b>
        {record.capability}.{record.command}: {record.status}
        {took}
      </b>
      {record.job && record.status === 'delivered' && (
        <div className="muted">Running as a job: see its progress under Jobs.</div>
      )}
      {record.error && (
        <div>
          {record.error.code}: {record.error.message}
        </div>
      )}
      {record.result !== undefined && (
        <pre className="mono" style={{ margin: '0.3rem 0 0', whiteSpace: 'pre-wrap' }}>
          {JSON.stringify(record.result, null, 2)}
        </pre>
      )}
    </div>
  );
}

/**
 * Sends any command of the capabilities the device declared, with a form generated from the
 * command's argument schema. Only rendered for roles with `commands:send`.
 */
export function CommandPanel({ device }: { device: Device }) {
  const { client } = useSession();
  const schemas = useSchemas();
  const declared = useMemo(() => {
    if (schemas.status !== 'ok') return [];
    return device.capabilities
      .map((c) => schemas.data.get(c.name))
      .filter((c) => c !== undefined && Object.keys(c.commands).length > 0)
      .filter((c) => c?.name !== 'hal.v1.estop'); // the e-stop has its own button
  }, [schemas, device.capabilities]);
  const [capabilityName, setCapability] = useState('');
  const [commandName, setCommand] = useState('');
  const [values, setValues] = useState<FormValues>({});
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const [busy, setBusy] = useState(false);

  const capability = declared.find((c) => c?.name === capabilityName) ?? declared[0];
  const commands = capability ? Object.keys(capability.commands) : [];
  const command = capability?.commands[commandName] ? commandName : commands[0];
  const spec = capability && command ? capability.commands[command] : undefined;

  const send = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!capability || !command || !spec) return;
    setBusy(true);
    setOutcome(undefined);
    try {
      const args = buildArgs(spec.args as Schema, values);
      const record = await client.sendCommand(
        device.id,
        { capability: capability.name, command, args },
        { async: spec.job === true },
      );
      setOutcome({ record });
    } catch (error) {
      // A field the form cannot turn into arguments, or the hub's refusal: both are messages.
      setOutcome({ error });
    } finally {
      setBusy(false);
    }
  };

  if (schemas.status === 'error') return <ErrorMessage error={schemas.error} what="Cannot load the HAL schemas" />;
  if (schemas.status === 'loading') return <p className="muted">Loading commands…</p>;
  if (declared.length === 0) return <p className="muted">This device declares no commands.</p>;

  return (
    // noValidate: the hub checks the arguments against the same schema, and its message in the
    // page names the field and the bound; the browser's bubbles would say less and vanish.
    <form
      noValidate
      onSubmit={(e) => void send(e)}
      aria-label="Send a command"
      style={{ display: 'flex', flexDirection: 'column', gap: '0.6rem' }}
    >
      <div className="row">
        <div className="field">
          <label htmlFor="command-capability">Capability</label>
          <select
            id="command-capability"
            value={capability?.name ?? ''}
            onChange={(e) => {
              setCapability(e.target.value);
              setCommand('');
              setValues({});
              setOutcome(undefined);
            }}
          >
            {declared.map((c) => (
              <option key={c?.name} value={c?.name}>
                {c?.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="command-name">Command</label>
          <select
            id="command-name"
            value={command ?? ''}
            onChange={(e) => {
              setCommand(e.target.value);
              setValues({});
              setOutcome(undefined);
            }}
          >
            {commands.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
      </div>
      {spec && (
        <p className="muted" style={{ margin: 0 }}>
          {spec.description}
        </p>
      )}
      {spec && (
        <SchemaFields
          schema={spec.args as Schema}
          values={values}
          onChange={(key, value) => setValues((v) => ({ ...v, [key]: value }))}
          idPrefix={`cmd-${capability?.name}-${command}`}
        />
      )}
      <div>
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Sending…' : `Send ${command ?? ''}`}
        </button>
      </div>
      <CommandResult outcome={outcome} />
    </form>
  );
}
