import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '@flotilla/protocol';
import { LlmClient } from './llm.js';
import { promptStatistics, writeSummary } from './narrative.js';
import { resolveReportSettings } from './settings.js';
import { deterministicSummary } from './summary.js';
import { sampleStatistics } from './testing.js';

/**
 * The LLM provider is outside the hub: here it is a real HTTP server on localhost that answers
 * as an OpenAI-compatible chat completions endpoint would (or fails as one can).
 */

interface Received {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  body: { model: string; messages: { role: string; content: string }[] };
}

type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

const logger = pino({ enabled: false });
const stats = sampleStatistics();

describe('narrative summary from an OpenAI-compatible provider', () => {
  let server: Server;
  let base: string;
  let behaviour: Behaviour;
  let received: Received[];
  let arrived: (() => void) | undefined;
  const held: ServerResponse[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          authorization: req.headers.authorization,
          body: JSON.parse(text) as Received['body'],
        });
        behaviour(req, res);
        arrived?.();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  beforeEach(() => {
    received = [];
  });
  after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const answer =
    (status: number, body: unknown): Behaviour =>
    (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
  const client = (clock = new ManualClock(), timeoutMs = 2000) => {
    const settings = resolveReportSettings(
      { llm: { url: base, apiKey: 'sk-test', model: 'fleet-writer', timeoutMs } },
      {},
    );
    return new LlmClient(settings.llm!, { clock });
  };

  test('the model writes the summary; the prompt holds the statistics and nothing else', async () => {
    behaviour = answer(200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [
        { index: 0, message: { role: 'assistant', content: '  The fleet was mostly up.  ' }, finish_reason: 'stop' },
      ],
    });
    const summary = await writeSummary(stats, client(), { logger });
    assert.deepEqual(summary, { text: 'The fleet was mostly up.', source: 'llm', model: 'fleet-writer', note: null });
    assert.equal(received.length, 1);
    const [request] = received as [Received];
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/chat/completions');
    assert.equal(request.authorization, 'Bearer sk-test');
    assert.equal(request.body.model, 'fleet-writer');
    assert.deepEqual(
      request.body.messages.map((m) => m.role),
      ['system', 'user'],
    );
    assert.deepEqual(JSON.parse(request.body.messages[1]?.content ?? ''), promptStatistics(stats));
    assert.doesNotMatch(request.body.messages[1]?.content ?? '', /"series"/, 'chart series are not sent');
    assert.match(request.body.messages[0]?.content ?? '', /Use only the numbers given/);
  });

  test('no answer in time: the deterministic summary, saying the provider timed out', async () => {
    behaviour = (_req, res) => void held.push(res);
    const clock = new ManualClock();
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const pending = writeSummary(stats, client(clock, 2000), { logger });
    await reached;
    arrived = undefined;
    clock.advance(2000);
    const summary = await pending;
    assert.deepEqual(summary, {
      text: deterministicSummary(stats),
      source: 'deterministic',
      model: null,
      note: 'the LLM provider did not answer within 2 s, so this is the deterministic summary.',
    });
  });

  for (const [name, behave, note] of [
    ['an HTTP error', answer(500, { error: { message: 'overloaded' } }), 'the LLM provider answered HTTP 500'],
    ['an answer that is not JSON', answer(200, '<html>proxy</html>'), 'the LLM provider did not answer JSON'],
    ['an answer without a message', answer(200, { choices: [] }), 'the LLM provider answered without a message'],
  ] as const) {
    test(`${name}: the deterministic summary, saying why`, async () => {
      behaviour = behave;
      const summary = await writeSummary(stats, client(), { logger });
      assert.equal(summary.source, 'deterministic');
      assert.equal(summary.text, deterministicSummary(stats));
      assert.equal(summary.note, `${note}, so this is the deterministic summary.`);
    });
  }

  test('an unreachable provider: the deterministic summary, saying so', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const settings = resolveReportSettings({ llm: { url: `http://127.0.0.1:${port}/v1`, model: 'm' } }, {});
    const summary = await writeSummary(stats, new LlmClient(settings.llm!, { clock: new ManualClock() }), { logger });
    assert.equal(summary.source, 'deterministic');
    assert.match(
      summary.note ?? '',
      /^the LLM provider could not be reached: .*, so this is the deterministic summary\.$/,
    );
  });

  test('without a provider nothing is called', async () => {
    const summary = await writeSummary(stats, undefined, { logger });
    assert.deepEqual(summary, { text: deterministicSummary(stats), source: 'deterministic', model: null, note: null });
    assert.equal(received.length, 0);
  });
});

test('settings: from the environment, the endpoint completed, bad values refused', () => {
  assert.equal(resolveReportSettings({}, {}).llm, undefined);
  const fromEnv = resolveReportSettings(
    {},
    {
      FLOTILLA_LLM_URL: 'https://llm.example/v1/',
      FLOTILLA_LLM_API_KEY: 'k',
      FLOTILLA_LLM_MODEL: 'm',
      FLOTILLA_LLM_TIMEOUT_MS: '5000',
    },
  );
  assert.deepEqual(fromEnv.llm, {
    url: 'https://llm.example/v1/chat/completions',
    apiKey: 'k',
    model: 'm',
    timeoutMs: 5000,
  });
  assert.equal(
    resolveReportSettings(
      {},
      { FLOTILLA_LLM_URL: 'http://localhost:11434/v1/chat/completions', FLOTILLA_LLM_MODEL: 'llama' },
    ).llm?.url,
    'http://localhost:11434/v1/chat/completions',
  );
  assert.equal(
    resolveReportSettings({ llm: false }, { FLOTILLA_LLM_URL: 'https://x/v1', FLOTILLA_LLM_MODEL: 'm' }).llm,
    undefined,
  );
  assert.throws(() => resolveReportSettings({}, { FLOTILLA_LLM_URL: 'https://x/v1' }), /needs FLOTILLA_LLM_MODEL/);
  assert.throws(
    () => resolveReportSettings({}, { FLOTILLA_LLM_URL: 'ftp://x', FLOTILLA_LLM_MODEL: 'm' }),
    /must be http/,
  );
  assert.throws(() => resolveReportSettings({}, { FLOTILLA_LLM_URL: 'x', FLOTILLA_LLM_MODEL: 'm' }), /not a URL/);
  assert.throws(
    () =>
      resolveReportSettings(
        {},
        { FLOTILLA_LLM_URL: 'https://x', FLOTILLA_LLM_MODEL: 'm', FLOTILLA_LLM_TIMEOUT_MS: 'soon' },
      ),
    /timeout/,
  );
});
