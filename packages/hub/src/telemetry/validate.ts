import type { TelemetryPoint, TelemetrySample, TelemetryWrite } from '../storage/telemetry-types.js';

/**
 * Checks what a transport hands the ingest, item by item: a bad value refuses that point, a bad
 * timestamp or seq refuses its message, and the rest is stored. Every refusal names its reason
 * (stable codes, counted in /metrics and listed in docs/telemetry.md).
 */

export const RefusalReasons = {
  /** A value that is not a number (a string, a boolean, null). */
  NOT_NUMERIC: 'not_numeric',
  /** NaN or ±Infinity. */
  NOT_FINITE: 'not_finite',
  /** A metric or sample name with characters outside `A-Z a-z 0-9 _ . : -`, or not starting with a letter or `_`. */
  BAD_NAME: 'bad_name',
  /** A metric or sample name longer than 128 characters. */
  NAME_TOO_LONG: 'name_too_long',
  /** `ts` is not an integer number of milliseconds. */
  BAD_TIMESTAMP: 'bad_timestamp',
  /** `ts` is further ahead of the hub's clock than the allowed skew. */
  TS_IN_FUTURE: 'ts_in_future',
  /** `ts` is further behind the hub's clock than the allowed age. */
  TS_TOO_OLD: 'ts_too_old',
  /** `seq` is not a non-negative integer. */
  BAD_SEQ: 'bad_seq',
  /** A sample that cannot be serialised as JSON or is larger than the sample limit. */
  BAD_SAMPLE: 'bad_sample',
  /** The message would take the call over its size limit (points + samples per submit). */
  BATCH_TOO_LARGE: 'batch_too_large',
  /** The ingest queue is at its hard limit: nothing of the call was queued; retry later. */
  OVERLOADED: 'overloaded',
  /** The ingest is closing (the hub is shutting down). */
  SHUTTING_DOWN: 'shutting_down',
} as const;
export type RefusalReason = (typeof RefusalReasons)[keyof typeof RefusalReasons];

export interface Refusal {
  /** Index of the message in the submitted array. */
  index: number;
  seq?: number;
  /** The metric or sample refused, when the refusal is about one value and not the whole message. */
  name?: string;
  reason: RefusalReason;
  message: string;
}

/** One agent message, as a transport received it (values not yet trusted). */
export interface TelemetryMessage {
  /** The agent's message number; absent means no dedup (a transport without numbering). */
  seq?: number;
  /** Device clock, ms since the epoch; every metric and sample of the message is at this time. */
  ts: number;
  metrics: Readonly<Record<string, unknown>>;
  samples?: Readonly<Record<string, unknown>>;
}

export interface ValidationLimits {
  now: number;
  maxFutureMs: number;
  maxPastMs: number;
  /** Points + samples per submit. */
  maxBatchPoints: number;
  maxSampleBytes: number;
}

export interface Validated {
  /** What to write, with the index of the message each came from. */
  writes: TelemetryWrite[];
  indexes: number[];
  refusals: Refusal[];
  /** Points + samples to write (the queue's unit of size). */
  size: number;
}

export const MAX_NAME_LENGTH = 128;
/** Telemetry metric and sample names (alert rules name metrics with the same rule). */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

/**
 * Names that passed, remembered: a fleet sends the same few names in every message, and a set
 * lookup is cheaper than the pattern. Bounded: past the limit it starts over.
 */
const goodNames = new Set<string>();
const MAX_GOOD_NAMES = 10_000;

function nameProblem(name: string): { reason: RefusalReason; message: string } | undefined {
  if (goodNames.has(name)) return undefined;
  const problem = checkName(name);
  if (problem === undefined) {
    if (goodNames.size >= MAX_GOOD_NAMES) goodNames.clear();
    goodNames.add(name);
  }
  return problem;
}

function checkName(name: string): { reason: RefusalReason; message: string } | undefined {
  if (name.length > MAX_NAME_LENGTH) {
    return { reason: RefusalReasons.NAME_TOO_LONG, message: `name is longer than ${MAX_NAME_LENGTH} characters` };
  }
  if (!NAME_RE.test(name)) {
    return {
      reason: RefusalReasons.BAD_NAME,
      message: 'name must start with a letter or _ and hold only letters, digits and _ . : -',
    };
  }
  return undefined;
}

export function validateMessages(
  device: string,
  messages: readonly TelemetryMessage[],
  limits: ValidationLimits,
): Validated {
  const out: Validated = { writes: [], indexes: [], refusals: [], size: 0 };
  messages.forEach((message, index) => {
    const seq = message.seq;
    const refuse = (reason: RefusalReason, text: string, name?: string): void => {
      const refusal: Refusal = { index, reason, message: text };
      if (seq !== undefined && Number.isSafeInteger(seq)) refusal.seq = seq;
      if (name !== undefined)
        refusal.name = name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH)}…` : name;
      out.refusals.push(refusal);
    };
    if (seq !== undefined && (!Number.isSafeInteger(seq) || seq < 0)) {
      return refuse(RefusalReasons.BAD_SEQ, 'seq must be a non-negative integer');
    }
    const ts = message.ts;
    if (!Number.isSafeInteger(ts)) return refuse(RefusalReasons.BAD_TIMESTAMP, 'ts must be an integer of milliseconds');
    if (ts > limits.now + limits.maxFutureMs) {
      return refuse(RefusalReasons.TS_IN_FUTURE, `ts is more than ${limits.maxFutureMs} ms ahead of the hub's clock`);
    }
    if (ts < limits.now - limits.maxPastMs) {
      return refuse(RefusalReasons.TS_TOO_OLD, `ts is more than ${limits.maxPastMs} ms behind the hub's clock`);
    }
    const points: TelemetryPoint[] = [];
    let offered = 0;
    // for…in, not Object.entries: no [name, value] array per point (a JSON object has no inherited keys).
    for (const metric in message.metrics) {
      offered++;
      const value = message.metrics[metric];
      const problem = nameProblem(metric);
      if (problem) refuse(problem.reason, `metric ${problem.message}`, metric);
      else if (typeof value !== 'number') refuse(RefusalReasons.NOT_NUMERIC, 'value is not a number', metric);
      else if (!Number.isFinite(value)) refuse(RefusalReasons.NOT_FINITE, 'value is NaN or infinite', metric);
      else points.push({ metric, value });
    }
    const samples: TelemetrySample[] = [];
    for (const [name, value] of Object.entries(message.samples ?? {})) {
      offered++;
      const problem = nameProblem(name);
      if (problem) {
        refuse(problem.reason, `sample ${problem.message}`, name);
        continue;
      }
      const data = serialise(value);
      if (data === undefined) refuse(RefusalReasons.BAD_SAMPLE, 'sample is not serialisable as JSON', name);
      else if (Buffer.byteLength(data) > limits.maxSampleBytes) {
        refuse(RefusalReasons.BAD_SAMPLE, `sample is larger than ${limits.maxSampleBytes} bytes`, name);
      } else samples.push({ name, data });
    }
    // A message whose every value was refused stores nothing (and is not recorded as seen).
    if (offered > 0 && points.length + samples.length === 0) return;
    const size = Math.max(1, points.length + samples.length);
    if (out.size + size > limits.maxBatchPoints) {
      out.refusals = out.refusals.filter((r) => r.index !== index);
      return refuse(
        RefusalReasons.BATCH_TOO_LARGE,
        `the call holds more than ${limits.maxBatchPoints} points and samples; send this message again in another call`,
      );
    }
    out.size += size;
    out.writes.push({ device, seq, ts, points, samples });
    out.indexes.push(index);
  });
  return out;
}

function serialise(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
