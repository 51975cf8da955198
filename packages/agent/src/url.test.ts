import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from './errors.js';
import { agentSocketUrl } from './url.js';

test('maps hub URLs to the agent socket URL', () => {
  assert.equal(agentSocketUrl('http://127.0.0.1:8080'), 'ws://127.0.0.1:8080/ws/agent');
  assert.equal(agentSocketUrl('https://fleet.example.com/'), 'wss://fleet.example.com/ws/agent');
  assert.equal(agentSocketUrl('https://example.com/flotilla/'), 'wss://example.com/flotilla/ws/agent');
  assert.equal(agentSocketUrl('ws://h:1/ws/agent'), 'ws://h:1/ws/agent');
  assert.equal(agentSocketUrl('wss://h'), 'wss://h/ws/agent');
});

test('refuses what is not an http(s) or ws(s) URL', () => {
  for (const bad of ['hub:8080', 'ftp://h', 'nonsense']) {
    assert.throws(
      () => agentSocketUrl(bad),
      (e: unknown) => e instanceof AgentError && e.code === 'invalid_hub_url',
      bad,
    );
  }
});
