export interface Servo {
  id: number;
  position: number;
  temperature?: number;
}

/** Parses the `servos` sample (`[{id, position, temperature}]`, docs/hal.md); anything else is no servos. */
export function servosOf(data: unknown): Servo[] {
  if (!Array.isArray(data)) return [];
  return data.filter(
    (s): s is Servo =>
      typeof s === 'object' &&
      s !== null &&
      typeof (s as Servo).id === 'number' &&
      typeof (s as Servo).position === 'number',
  );
}

/** Each servo's position (0–1000 servo units) as a bar, and its temperature, hot ones marked. */
export function ServoPanel({ servos }: { servos: readonly Servo[] }) {
  return (
    <div className="servo-bars" role="list" aria-label="Servos">
      {servos.map((s) => {
        const hot = (s.temperature ?? 0) >= 60;
        return (
          <div
            key={s.id}
            role="listitem"
            aria-label={`Servo ${s.id}: position ${s.position}${s.temperature !== undefined ? `, ${s.temperature} °C` : ''}`}
          >
            <div className="muted" style={{ fontSize: '0.75rem' }}>
              #{s.id}
            </div>
            <div className="progress">
              <div style={{ width: `${Math.max(0, Math.min(100, s.position / 10))}%` }} />
            </div>
            <div style={{ fontSize: '0.8rem' }}>
              {s.position}{' '}
              <span className={hot ? 'bad' : 'muted'}>{s.temperature !== undefined ? `${s.temperature}°` : ''}</span>
            </div>
          </div>
        );
      })}
    </div>
  );
}
