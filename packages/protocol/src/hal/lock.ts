import { breakingChanges } from './compat.js';
import { halMajor, type CapabilityDocument } from './spec.js';

/**
 * hal.lock.json records every published capability version. Published means: devices and
 * clients in the field may rely on it. The check below runs in the test suite (so CI fails) and
 * in `npm run hal:lock -w @flotilla/protocol`, which records new versions and refuses to record
 * a breaking one.
 */
export type HalLock = Record<string, CapabilityDocument>;

export interface LockCheck {
  /** Breaking or unversioned changes: these fail the build. */
  problems: string[];
  /** Capabilities, or compatible new versions, not recorded yet. */
  unrecorded: string[];
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const SEMVER = /^[0-9]+\.[0-9]+\.[0-9]+$/;

/** JSON with object keys sorted: the same schema written in another key order is the same schema. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export function checkLock(lock: HalLock, current: readonly CapabilityDocument[]): LockCheck {
  const problems: string[] = [];
  const unrecorded: string[] = [];
  const byName = new Map(current.map((c) => [c.name, c]));
  for (const doc of current) {
    const major = halMajor(doc.name);
    if (major === undefined) problems.push(`${doc.name}: not a HAL name (hal.v<major>.<area>...)`);
    else if (!SEMVER.test(doc.version) || Number(doc.version.split('.')[0]) !== major) {
      problems.push(`${doc.name}: version ${doc.version} must be semver with major ${major}`);
    }
  }
  for (const [name, published] of Object.entries(lock)) {
    const now = byName.get(name);
    if (!now) {
      problems.push(`${name}: published capabilities are never removed`);
      continue;
    }
    if (canonical(now) === canonical(published)) continue;
    const order = compareVersions(now.version, published.version);
    if (order < 0) problems.push(`${name}: version went back from ${published.version} to ${now.version}`);
    else if (order === 0) problems.push(`${name}: changed without a version bump (still ${now.version})`);
    for (const p of breakingChanges(published, now)) {
      problems.push(
        `${name} ${published.version} → ${now.version}: ${p} (a breaking change needs a new major: a hal.v${(halMajor(name) ?? 0) + 1} capability next to this one)`,
      );
    }
    if (order > 0) unrecorded.push(`${name} ${now.version}`);
  }
  for (const doc of current) if (!(doc.name in lock)) unrecorded.push(`${doc.name} ${doc.version}`);
  return { problems, unrecorded };
}

/** The lock with the current documents recorded; throws with every problem when there are any. */
export function updateLock(lock: HalLock, current: readonly CapabilityDocument[]): HalLock {
  const { problems } = checkLock(lock, current);
  if (problems.length > 0) throw new Error(`HAL compatibility check failed:\n- ${problems.join('\n- ')}`);
  return Object.fromEntries(current.map((doc) => [doc.name, doc]));
}
