import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { collectFacts, mergeFacts } from './facts.js';
import { AGENT_VERSION } from './version.js';

test('host facts are collected once and shared', () => {
  const facts = collectFacts();
  assert.equal(collectFacts(), facts, 'same object for every agent of the process');
  assert.equal(facts.network?.hostname, os.hostname());
  assert.equal(facts.hardware?.arch, os.arch());
  assert.equal(facts.hardware?.memoryBytes, os.totalmem());
  assert.ok((facts.hardware?.cpus ?? 0) >= 1);
  assert.equal(facts.software?.agentVersion, AGENT_VERSION);
  assert.ok(facts.software?.os && facts.software.osVersion);
  const external = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal);
  if (external.length > 0) {
    assert.ok(facts.network?.ips?.includes(external[0]!.address));
    assert.match(facts.network?.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  }
});

test('the agent version is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(AGENT_VERSION, pkg.version);
});

test('overrides merge one level deep, capabilities by name, and never carry a token', () => {
  const base = {
    hardware: { arch: 'arm64', cpus: 4 },
    network: { hostname: 'pi' },
    capabilities: [{ name: 'hal.v1.battery' }],
    labels: { site: 'lab' },
  };
  const merged = mergeFacts(base, {
    type: 'lekiwi',
    hardware: { serial: 'LK-1' },
    capabilities: [{ name: 'hal.v1.battery', version: '1' }, { name: 'hal.v1.estop' }],
    labels: { kind: 'lekiwi' },
    token: 'secret',
  });
  assert.deepEqual(merged, {
    type: 'lekiwi',
    hardware: { arch: 'arm64', cpus: 4, serial: 'LK-1' },
    network: { hostname: 'pi' },
    capabilities: [{ name: 'hal.v1.battery', version: '1' }, { name: 'hal.v1.estop' }],
    labels: { site: 'lab', kind: 'lekiwi' },
  });
  assert.equal(mergeFacts(base, undefined), base);
});
