import { useState } from 'react';
import type { CommandRecord, Device } from '@flotilla/sdk';
import { useSession } from '../../app/session.tsx';
import { CommandResult } from './CommandPanel.tsx';

/**
 * The emergency stop: one big button, first in the page's tab order after the title. `engage`
 * is a critical command (it jumps every queue on the hub and the device). Whether it is engaged
 * comes from the device's own `estop` metric, live.
 */
export function EStop({ device, engaged }: { device: Device; engaged: boolean | undefined }) {
  const { client } = useSession();
  const [outcome, setOutcome] = useState<{ record: CommandRecord } | { error: unknown } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  if (!device.capabilities.some((c) => c.name === 'hal.v1.estop')) return null;

  const send = async (command: 'engage' | 'release'): Promise<void> => {
    setBusy(true);
    try {
      setOutcome({ record: await client.sendCommand(device.id, { capability: 'hal.v1.estop', command, args: {} }) });
    } catch (error) {
      setOutcome({ error });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="row" style={{ alignItems: 'flex-start' }}>
      {engaged ? (
        <>
          <span className="estop engaged" role="status">
            E-STOP ENGAGED
          </span>
          <button type="button" disabled={busy} onClick={() => void send('release')}>
            Release e-stop
          </button>
        </>
      ) : (
        <button
          type="button"
          className="estop"
          disabled={busy}
          onClick={() => void send('engage')}
          aria-label="Emergency stop"
        >
          ■ EMERGENCY STOP
        </button>
      )}
      <div style={{ minWidth: 0 }}>
        <CommandResult outcome={outcome} />
      </div>
    </div>
  );
}
