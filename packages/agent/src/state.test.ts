import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_STATES, canTransition, type AgentState } from './state.js';

test('the transition table is exactly the documented machine', () => {
  const allowed: [AgentState, AgentState][] = [
    ['Initializing', 'Registering'],
    ['Registering', 'Connected'],
    ['Registering', 'Disconnected'],
    ['Connected', 'Disconnected'],
    ['Disconnected', 'Reconnecting'],
    ['Reconnecting', 'Registering'],
  ];
  for (const from of AGENT_STATES) {
    for (const to of AGENT_STATES) {
      const expected = allowed.some(([f, t]) => f === from && t === to) || (to === 'Stopped' && from !== 'Stopped');
      assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
    }
  }
});
