import type { Row } from './telemetry-store.ts';

/** Where a mobile base is and where it went in the live window: a trail and a heading arrow, in metres. */
export function PosePanel({ rows, pose }: { rows: readonly Row[]; pose: { x: number; y: number; theta: number } }) {
  const trail = rows
    .filter((r) => r.values['pose.x'] !== undefined && r.values['pose.y'] !== undefined)
    .map((r) => [r.values['pose.x'] as number, r.values['pose.y'] as number] as const);
  const xs = [pose.x, ...trail.map((p) => p[0])];
  const ys = [pose.y, ...trail.map((p) => p[1])];
  const span = Math.max(1, Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) * 1.3;
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
  const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  // SVG's y grows downwards; the robot's grows upwards.
  const sx = (x: number): number => 100 + ((x - cx) / span) * 200;
  const sy = (y: number): number => 100 - ((y - cy) / span) * 200;
  const arrow = 12;
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox="0 0 200 200"
        width="100%"
        style={{ maxHeight: 220 }}
        role="img"
        aria-label={`Pose x ${pose.x.toFixed(2)} m, y ${pose.y.toFixed(2)} m, heading ${((pose.theta * 180) / Math.PI).toFixed(0)}°`}
      >
        <rect x="0" y="0" width="200" height="200" fill="var(--panel-2)" rx="8" />
        <polyline
          points={trail.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')}
          fill="none"
          stroke="var(--accent)"
          strokeOpacity="0.5"
          strokeWidth="1.5"
        />
        <circle cx={sx(pose.x)} cy={sy(pose.y)} r="5" fill="var(--accent)" />
        <line
          x1={sx(pose.x)}
          y1={sy(pose.y)}
          x2={sx(pose.x) + arrow * Math.cos(pose.theta)}
          y2={sy(pose.y) - arrow * Math.sin(pose.theta)}
          stroke="var(--text)"
          strokeWidth="2"
        />
      </svg>
      <figcaption className="muted">
        x {pose.x.toFixed(2)} m · y {pose.y.toFixed(2)} m · θ {((pose.theta * 180) / Math.PI).toFixed(0)}° · span{' '}
        {span.toFixed(1)} m
      </figcaption>
    </figure>
  );
}
