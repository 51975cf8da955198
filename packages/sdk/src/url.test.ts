import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiUrl, liveUrl, eventQuery } from './url.js';

test('liveUrl maps http(s) to ws(s) and appends /ws/client once', () => {
  assert.equal(liveUrl('http://localhost:8080'), 'ws://localhost:8080/ws/client');
  assert.equal(liveUrl('https://ops.example.com/flotilla/'), 'wss://ops.example.com/flotilla/ws/client');
  assert.equal(liveUrl('ws://h:1/ws/client'), 'ws://h:1/ws/client');
  assert.throws(() => liveUrl('ftp://h'), /http\(s\) or ws\(s\)/);
});

test('apiUrl joins paths under a base with or without a trailing slash', () => {
  assert.equal(apiUrl('http://h:8080', 'api/v1/health'), 'http://h:8080/api/v1/health');
  assert.equal(apiUrl('http://h/p/', '/api/v1/health'), 'http://h/p/api/v1/health');
  assert.equal(
    apiUrl('http://h/p', 'api/v1/events', new URLSearchParams({ a: 'b c' })),
    'http://h/p/api/v1/events?a=b+c',
  );
});

test('eventQuery leaves out what is not set', () => {
  assert.equal(eventQuery({}).toString(), '');
  assert.equal(eventQuery({ type: 'A', since: '2025-01-01' }).toString(), 'type=A&since=2025-01-01');
});
