import type { Clock } from '@flotilla/protocol';
import type { ResolvedLlmSettings } from './settings.js';

/**
 * A client of an OpenAI-compatible chat completions endpoint (`POST …/chat/completions`), the
 * one call the narrative summary needs. Every way it can go wrong (no answer in time, refused,
 * unreachable, an answer without text) is an LlmError with a code the report states.
 */

export const LlmErrorCodes = {
  TIMEOUT: 'timeout',
  UNREACHABLE: 'unreachable',
  HTTP_ERROR: 'http_error',
  BAD_RESPONSE: 'bad_response',
} as const;
export type LlmErrorCode = (typeof LlmErrorCodes)[keyof typeof LlmErrorCodes];

export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** An answer larger than this is not a summary. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Longest summary kept; a model that rambles is cut at a sentence end before this. */
export const MAX_SUMMARY_CHARS = 4000;

export class LlmClient {
  readonly model: string;
  readonly #settings: ResolvedLlmSettings;
  readonly #clock: Clock;
  readonly #fetch: FetchLike;

  constructor(settings: ResolvedLlmSettings, deps: { clock: Clock; fetch?: FetchLike }) {
    this.#settings = settings;
    this.model = settings.model;
    this.#clock = deps.clock;
    this.#fetch = deps.fetch ?? ((url, init) => globalThis.fetch(url, init));
  }

  /** The model's answer to `messages`, trimmed; rejects with LlmError. `signal` aborts (hub closing). */
  async complete(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<string> {
    const timeout = new AbortController();
    const timer = this.#clock.setTimeout(() => timeout.abort(), this.#settings.timeoutMs);
    const aborted = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#settings.apiKey) headers['authorization'] = `Bearer ${this.#settings.apiKey}`;
    try {
      let response: Response;
      try {
        response = await this.#fetch(this.#settings.url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: this.#settings.model, messages, temperature: 0.2 }),
          signal: aborted,
          redirect: 'error',
        });
      } catch (err) {
        throw this.#failure(err, timeout.signal);
      }
      let text: string;
      try {
        text = await readLimited(response);
      } catch (err) {
        throw this.#failure(err, timeout.signal);
      }
      if (!response.ok) {
        throw new LlmError(LlmErrorCodes.HTTP_ERROR, `the LLM provider answered HTTP ${response.status}`);
      }
      return contentOf(text);
    } finally {
      timer.cancel();
    }
  }

  #failure(err: unknown, timeout: AbortSignal): LlmError {
    if (err instanceof LlmError) return err;
    if (timeout.aborted) {
      return new LlmError(
        LlmErrorCodes.TIMEOUT,
        `the LLM provider did not answer within ${Math.round(this.#settings.timeoutMs / 1000)} s`,
        { cause: err },
      );
    }
    // The reason only: the URL may hold credentials and the key is in the headers.
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return new LlmError(LlmErrorCodes.UNREACHABLE, `the LLM provider could not be reached: ${reason}`, { cause: err });
  }
}

async function readLimited(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new LlmError(
        LlmErrorCodes.BAD_RESPONSE,
        `the LLM provider's answer is larger than ${MAX_RESPONSE_BYTES} bytes`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `choices[0].message.content` of a chat completion, trimmed and capped. */
function contentOf(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LlmError(LlmErrorCodes.BAD_RESPONSE, 'the LLM provider did not answer JSON');
  }
  const choices = (body as { choices?: unknown }).choices;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const content = (first as { message?: { content?: unknown } } | undefined)?.message?.content;
  if (typeof content !== 'string' || content.trim() === '') {
    throw new LlmError(LlmErrorCodes.BAD_RESPONSE, 'the LLM provider answered without a message');
  }
  const trimmed = content.trim();
  if (trimmed.length <= MAX_SUMMARY_CHARS) return trimmed;
  const cut = trimmed.slice(0, MAX_SUMMARY_CHARS);
  const end = cut.lastIndexOf('. ');
  return end > 0 ? cut.slice(0, end + 1) : `${cut}…`;
}
