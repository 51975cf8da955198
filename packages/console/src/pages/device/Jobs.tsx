import type { CommandRecord } from '@flotilla/sdk';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { ago } from '../../app/format.ts';
import { useSession } from '../../app/session.tsx';
import type { AsyncState } from '../../app/use-async.ts';

/**
 * The device's latest commands, jobs with their progress. The page re-reads the list when the
 * hub publishes a command or job event of this device (no timer).
 */
export function Jobs({ commands }: { commands: AsyncState<CommandRecord[]> }) {
  const { client, can } = useSession();
  if (commands.status === 'error') return <ErrorMessage error={commands.error} what="Cannot load commands" />;
  const list = commands.data ?? [];
  if (list.length === 0)
    return <p className="muted">{commands.status === 'loading' ? 'Loading…' : 'No commands yet.'}</p>;
  return (
    <table className="list" aria-label="Commands and jobs">
      <thead>
        <tr>
          <th>Command</th>
          <th>Status</th>
          <th>Progress</th>
          <th>By</th>
          <th>Issued</th>
        </tr>
      </thead>
      <tbody>
        {list.slice(0, 15).map((c) => {
          const running = c.status === 'issued' || c.status === 'delivered';
          return (
            <tr key={c.id}>
              <td className="mono">
                {c.capability.replace(/^hal\./, '')}.{c.command}
              </td>
              <td className={c.status === 'succeeded' ? 'on' : running ? '' : 'bad'}>{c.status}</td>
              <td style={{ minWidth: 110 }}>
                {c.job ? (
                  <>
                    <div
                      className="progress"
                      role="progressbar"
                      aria-label={`${c.command} progress`}
                      aria-valuemin={0}
                      aria-valuemax={100}
                      aria-valuenow={Math.round((c.progress ?? 0) * 100)}
                    >
                      <div
                        style={{ width: `${Math.round((c.progress ?? (c.status === 'succeeded' ? 1 : 0)) * 100)}%` }}
                      />
                    </div>
                    <span className="muted">{c.progressMessage ?? ''}</span>
                    {running && can('commands:send') && (
                      <button
                        type="button"
                        onClick={() => void client.cancelCommand(c.id, 'cancelled from the console')}
                      >
                        Cancel
                      </button>
                    )}
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>{c.actor}</td>
              <td>{ago(c.issuedAt)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
