import type { Capability } from '@flotilla/sdk';
import { ago, num } from '../../app/format.ts';

/** Every metric's newest value with its unit (from the HAL schemas of the capability that names it). */
export function LatestValues({
  latest,
  capabilities,
}: {
  latest: ReadonlyMap<string, { ts: number; value: number }>;
  capabilities: readonly Capability[];
}) {
  const units = new Map<string, string>();
  for (const c of capabilities) for (const [name, m] of Object.entries(c.metrics)) units.set(name, m.unit);
  const names = [...latest.keys()].sort();
  if (names.length === 0) return <p className="muted">No values yet.</p>;
  const now = Date.now();
  return (
    <table className="list" aria-label="Latest values">
      <tbody>
        {names.map((name) => {
          const point = latest.get(name);
          return (
            <tr key={name}>
              <th scope="row" className="mono" style={{ fontWeight: 400, overflowWrap: 'anywhere' }}>
                {name}
              </th>
              <td data-metric={name} className="nowrap">
                {num(point?.value, 2)} <span className="muted">{units.get(name) ?? ''}</span>
              </td>
              <td className="muted nowrap">{ago(point?.ts, now)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
