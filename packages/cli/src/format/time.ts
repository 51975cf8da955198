/** "3s ago", "5m ago", "2h ago", "4d ago"; "just now" under a second; "in 3s" for the future. */
export function relativeTime(ts: number | null | undefined, now: number): string {
  if (ts === null || ts === undefined) return 'never';
  const diff = now - ts;
  const span = humanSpan(Math.abs(diff) / 1000);
  if (Math.abs(diff) < 1000) return 'just now';
  return diff > 0 ? `${span} ago` : `in ${span}`;
}

/** A span in seconds as its largest unit: 45s, 12m, 5h, 3d. */
function humanSpan(seconds: number): string {
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** An uptime in seconds with two units: "3d 4h", "2h 5m", "5m 3s", "42s". */
export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** UTC, to the second: the same instant reads the same on every operator's screen. */
export function formatTimestamp(ts: number): string {
  return new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
