/**
 * Report settings a hub is started with (`HubOptions.reports`) and the defaults of a report
 * request. docs/reports.md explains each.
 */

/** An OpenAI-compatible chat completions provider for the narrative summary. */
export interface LlmSettings {
  /** Base URL (`https://api.openai.com/v1`; `/chat/completions` is appended) or the full endpoint. */
  url: string;
  /** Sent as `Authorization: Bearer …`; absent for a local server that needs none. */
  apiKey?: string | undefined;
  model: string;
  /** How long to wait for the answer before using the deterministic summary (default 30 s). */
  timeoutMs?: number;
}

export interface ReportSettings {
  /**
   * The LLM provider. Absent: from `FLOTILLA_LLM_URL`, `FLOTILLA_LLM_API_KEY`, `FLOTILLA_LLM_MODEL`
   * (and `FLOTILLA_LLM_TIMEOUT_MS`) when `FLOTILLA_LLM_URL` is set, else none. `false`: none,
   * whatever the environment says.
   */
  llm?: LlmSettings | false;
  /** A report still generating after this long fails (default 5 min). */
  generationTimeoutMs?: number;
  /** Reports waiting to be generated at most; more are refused with 429 (default 16). */
  maxQueued?: number;
}

export interface ResolvedLlmSettings {
  /** The chat completions endpoint itself. */
  url: string;
  apiKey: string | undefined;
  model: string;
  timeoutMs: number;
}

export interface ResolvedReportSettings {
  llm: ResolvedLlmSettings | undefined;
  generationTimeoutMs: number;
  maxQueued: number;
}

export const REPORT_DEFAULTS = {
  batteryMetric: 'battery.soc',
  temperatureMetric: 'system.temperature',
  batteryBelow: 20,
  temperatureAbove: 70,
  offlineAbove: 0.1,
  llmTimeoutMs: 30_000,
  generationTimeoutMs: 5 * 60_000,
  maxQueued: 16,
} as const;

/** The longest range one report may cover (the 1 h rollups are kept 2 years by default). */
export const MAX_REPORT_RANGE_MS = 400 * 86_400_000;

/** Applies the defaults and the environment; throws a RangeError naming the first bad setting. */
export function resolveReportSettings(
  settings: ReportSettings = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedReportSettings {
  const integer = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new RangeError(`reports ${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
    return v;
  };
  return {
    llm: settings.llm === false ? undefined : llmSettings(settings.llm ?? fromEnv(env), integer),
    generationTimeoutMs: integer(
      'generationTimeoutMs',
      settings.generationTimeoutMs,
      REPORT_DEFAULTS.generationTimeoutMs,
      1000,
      86_400_000,
    ),
    maxQueued: integer('maxQueued', settings.maxQueued, REPORT_DEFAULTS.maxQueued, 1, 10_000),
  };
}

function fromEnv(env: Readonly<Record<string, string | undefined>>): LlmSettings | undefined {
  const url = env['FLOTILLA_LLM_URL'];
  if (url === undefined || url === '') return undefined;
  const model = env['FLOTILLA_LLM_MODEL'];
  if (model === undefined || model === '') throw new RangeError('FLOTILLA_LLM_URL needs FLOTILLA_LLM_MODEL');
  const timeout = env['FLOTILLA_LLM_TIMEOUT_MS'];
  const timeoutMs = timeout === undefined || timeout === '' ? undefined : Number(timeout);
  const apiKey = env['FLOTILLA_LLM_API_KEY'];
  return { url, model, ...(apiKey && { apiKey }), ...(timeoutMs !== undefined && { timeoutMs }) };
}

function llmSettings(
  settings: LlmSettings | undefined,
  integer: (name: string, value: number | undefined, fallback: number, min: number, max: number) => number,
): ResolvedLlmSettings | undefined {
  if (settings === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch {
    // Never echo the URL: it may carry credentials.
    throw new RangeError('the LLM URL is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError('the LLM URL must be http(s)');
  if (settings.model.trim() === '') throw new RangeError('the LLM model must not be empty');
  const endpoint = url.pathname.endsWith('/chat/completions')
    ? url
    : new URL(`${url.pathname.replace(/\/+$/, '')}/chat/completions${url.search}`, url);
  return {
    url: endpoint.toString(),
    apiKey: settings.apiKey,
    model: settings.model,
    timeoutMs: integer('LLM timeout (ms)', settings.timeoutMs, REPORT_DEFAULTS.llmTimeoutMs, 100, 600_000),
  };
}
