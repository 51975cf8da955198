import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connectDevice, json, openTestHub, TEST_START, type ErrorBodyJson, type TestHub } from '../http/testing.js';
import type { ReportView } from './schema.js';

/**
 * How generation is bounded, on a hub whose LLM provider (a real local HTTP server standing in
 * for one outside the machine) answers only when the test says so: a report waits as pending,
 * its HTML is refused meanwhile, the queue is capped, a slow provider gives way to the
 * deterministic summary, and a generation that overruns its limit fails.
 */

const S = 1000;

describe('report generation with an LLM provider', () => {
  let hub: TestHub;
  let server: Server;
  const held: ServerResponse[] = [];
  let waiting: (() => void)[] = [];
  /** Resolves when the provider has received one more request. */
  const nextRequest = () => new Promise<void>((resolve) => waiting.push(resolve));

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        held.push(res);
        const wake = waiting;
        waiting = [];
        for (const w of wake) w();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    hub = await openTestHub('sqlite', {
      reports: { llm: { url, model: 'slow-model', timeoutMs: 20 * S }, generationTimeoutMs: 60 * S, maxQueued: 2 },
    });
    await connectDevice(hub, 'r1');
    hub.clock.advance(60 * S);
  });
  after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await hub?.dispose();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const create = () =>
    hub.inject({ method: 'POST', url: '/api/v1/reports', payload: { scope: 'fleet', from: TEST_START } });
  const get = async (id: string) => json<ReportView>(await hub.inject(`/api/v1/reports/${id}`));

  test('pending while the provider thinks; the queue is capped; a provider too slow gives way to the deterministic summary', async () => {
    const reached = nextRequest();
    const first = json<ReportView>(await create());
    await reached;
    assert.equal((await get(first.id)).status, 'pending');
    const html = await hub.inject(`/api/v1/reports/${first.id}/html`);
    assert.equal(html.statusCode, 409);
    assert.deepEqual(json<ErrorBodyJson>(html).error, {
      code: 'report_not_ready',
      message: `report ${first.id} is still being generated`,
    });

    const second = await create();
    assert.equal(second.statusCode, 202, 'one generating, one waiting: the queue holds 2');
    const full = await create();
    assert.equal(full.statusCode, 429);
    assert.equal(json<ErrorBodyJson>(full).error.code, 'report_queue_full');

    // A long poll answers as soon as the report is done, before its 60 s.
    const waited = hub.inject(`/api/v1/reports/${first.id}?wait=60`);
    const secondReached = nextRequest();
    hub.clock.advance(20 * S); // the first report's provider timeout
    await secondReached;
    const done = json<ReportView>(await waited);
    assert.equal(done.status, 'ready');
    assert.equal(done.summary?.source, 'deterministic');
    assert.equal(
      done.summary?.note,
      'the LLM provider did not answer within 20 s, so this is the deterministic summary.',
    );
    assert.match(done.summary?.text ?? '', /^Fleet report over /);
    const page = await hub.inject(`/api/v1/reports/${first.id}/html`);
    assert.match(
      page.body,
      /Note: the LLM provider did not answer within 20 s, so this is the deterministic summary\./,
    );

    // The second one is answered by the model.
    const res = held.at(-1) as ServerResponse;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'One robot, always up.' } }] }));
    await hub.reports.idle();
    const answered = await get(json<ReportView>(second).id);
    assert.deepEqual(answered.summary, {
      text: 'One robot, always up.',
      source: 'llm',
      model: 'slow-model',
      note: null,
    });
  });

  test('a generation that overruns its time limit fails and says so', async () => {
    const slowHub = await openTestHub('sqlite', {
      reports: {
        llm: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'm', timeoutMs: 120 * S },
        generationTimeoutMs: 30 * S,
      },
    });
    try {
      slowHub.clock.advance(60 * S);
      const reached = nextRequest();
      const made = await slowHub.inject({
        method: 'POST',
        url: '/api/v1/reports',
        payload: { scope: 'fleet', from: TEST_START },
      });
      const { id } = json<ReportView>(made);
      await reached;
      slowHub.clock.advance(30 * S);
      await slowHub.reports.idle();
      const report = json<ReportView>(await slowHub.inject(`/api/v1/reports/${id}`));
      assert.equal(report.status, 'failed');
      assert.equal(report.error, 'generation took longer than 30 s');
      const pdf = await slowHub.inject(`/api/v1/reports/${id}/pdf`);
      assert.equal(pdf.statusCode, 409);
      assert.equal(json<ErrorBodyJson>(pdf).error.message, `report ${id} failed: generation took longer than 30 s`);
    } finally {
      await slowHub.dispose();
    }
  });
});
