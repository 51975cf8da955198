import type { Logger } from 'pino';
import { LlmError, type ChatMessage, type LlmClient } from './llm.js';
import type { ReportStatistics, ReportSummary } from './schema.js';
import { deterministicSummary } from './summary.js';

/**
 * The summary of a report: written by the LLM provider when one is configured, else (and
 * whenever the provider fails) the deterministic summary, with a note saying why. The prompt
 * holds the statistics and nothing else: no device labels, no user names, no hub settings.
 */

/** Devices per list sent to the model: the worst ones carry the story, and prompts cost by size. */
const PROMPT_DEVICES = 20;

const INSTRUCTIONS = [
  'You summarise a fleet operations report for the people who run a fleet of robots and edge devices.',
  'Write 3 to 6 plain sentences (no markdown, no lists, at most 150 words) from the statistics in the next message:',
  'uptime and offline devices, alerts, battery, temperature, commands and the busiest devices.',
  'Use only the numbers given and do not guess at causes.',
  'Fractions are between 0 and 1: write them as percentages. Times are milliseconds since the epoch, in UTC;',
  'durations are milliseconds: write them in hours and minutes.',
].join(' ');

/** The statistics as the model sees them: per-device lists cut to the worst ones, no chart series. */
export function promptStatistics(stats: ReportStatistics): Record<string, unknown> {
  const top = <T>(items: readonly T[]): T[] => items.slice(0, PROMPT_DEVICES);
  const metric = (m: ReportStatistics['battery']) => {
    const { series: _series, devices, flagged, ...rest } = m;
    return { ...rest, flagged: top(flagged), devices: top(devices) };
  };
  return {
    ...stats,
    uptime: {
      ...stats.uptime,
      devices: top(stats.uptime.devices),
      offlineWholeRange: top(stats.uptime.offlineWholeRange),
      overThreshold: top(stats.uptime.overThreshold),
    },
    battery: metric(stats.battery),
    temperature: metric(stats.temperature),
  };
}

export function promptMessages(stats: ReportStatistics): ChatMessage[] {
  return [
    { role: 'system', content: INSTRUCTIONS },
    { role: 'user', content: JSON.stringify(promptStatistics(stats)) },
  ];
}

export async function writeSummary(
  stats: ReportStatistics,
  llm: LlmClient | undefined,
  options: { logger: Logger; signal?: AbortSignal },
): Promise<ReportSummary> {
  const fallback = (note: string | null): ReportSummary => ({
    text: deterministicSummary(stats),
    source: 'deterministic',
    model: null,
    note,
  });
  if (!llm) return fallback(null);
  try {
    const text = await llm.complete(promptMessages(stats), options.signal);
    return { text, source: 'llm', model: llm.model, note: null };
  } catch (err) {
    if (!(err instanceof LlmError)) throw err;
    options.logger.warn({ code: err.code, reason: err.message }, 'LLM summary failed: using the deterministic one');
    return fallback(`${err.message}, so this is the deterministic summary.`);
  }
}
