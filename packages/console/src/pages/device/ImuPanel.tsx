/** Roll, pitch and yaw as numbers and as an artificial horizon (roll tilts it, pitch moves it). */
export function ImuPanel({ roll, pitch, yaw }: { roll: number; pitch: number; yaw: number }) {
  const offset = Math.max(-40, Math.min(40, pitch));
  return (
    <figure style={{ margin: 0 }} className="row">
      <svg
        viewBox="-50 -50 100 100"
        width="120"
        height="120"
        role="img"
        aria-label={`Attitude: roll ${roll.toFixed(1)}°, pitch ${pitch.toFixed(1)}°`}
      >
        <clipPath id="imu-clip">
          <circle r="48" />
        </clipPath>
        <g clipPath="url(#imu-clip)" transform={`rotate(${-roll})`}>
          <rect x="-100" y="-100" width="200" height={100 + offset} fill="#60a5fa" />
          <rect x="-100" y={offset} width="200" height="100" fill="#a16207" />
        </g>
        <circle r="48" fill="none" stroke="var(--border)" strokeWidth="2" />
        <line x1="-20" x2="20" y1="0" y2="0" stroke="var(--text)" strokeWidth="2" />
      </svg>
      <dl className="kv">
        <dt>roll</dt>
        <dd>{roll.toFixed(1)}°</dd>
        <dt>pitch</dt>
        <dd>{pitch.toFixed(1)}°</dd>
        <dt>yaw</dt>
        <dd>{yaw.toFixed(1)}°</dd>
      </dl>
    </figure>
  );
}
