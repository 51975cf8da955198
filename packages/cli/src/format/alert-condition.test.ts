import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionText, parseCondition } from './alert-condition.js';

test('one-line conditions read into the API’s shape and print back in the same words', () => {
  const cases: Array<[string, unknown]> = [
    [
      'temperature > 70 for 30s clear 65',
      { type: 'threshold', metric: 'temperature', op: '>', value: 70, for: '30s', clear: 65 },
    ],
    ['cpu >= 90', { type: 'threshold', metric: 'cpu', op: '>=', value: 90 }],
    ['battery below 20 for 1m', { type: 'battery', below: 20, for: '1m' }],
    ['battery.soc below 15 clear 25', { type: 'battery', below: 15, metric: 'battery.soc', clear: 25 }],
    ['offline for 5m', { type: 'offline', for: '5m' }],
    ['no-data for 10m', { type: 'no_data', for: '10m' }],
    ['no-data temperature for 10m', { type: 'no_data', metric: 'temperature', for: '10m' }],
    [
      'rate(battery) < -1 per minute over 5m for 1m clear -0.5',
      { type: 'rate', metric: 'battery', op: '<', value: -1, per: 'minute', window: '5m', for: '1m', clear: -0.5 },
    ],
  ];
  for (const [text, condition] of cases) {
    assert.deepEqual(parseCondition(text), condition, text);
    assert.equal(conditionText(parseCondition(text)), text);
  }
  assert.deepEqual(parseCondition('temperature>70'), { type: 'threshold', metric: 'temperature', op: '>', value: 70 });
  assert.equal(
    conditionText({
      or: [{ and: [parseCondition('a > 1'), parseCondition('b < 2')] }, { type: 'offline', for: '1m' }],
    }),
    '(a > 1 and b < 2) or offline for 1m',
  );
});

test('a condition that does not read says where it went wrong', () => {
  for (const [text, message] of [
    ['', /empty/],
    ['temperature = 70', /expected one of/],
    ['temperature >> 70', /the value must be a number/],
    ['temperature > hot', /the value must be a number/],
    ['temperature > 70 for', /for needs a value/],
    ['temperature > 70 during 5m', /unexpected "during"/],
    ['offline', /for how long/],
    ['rate(battery) < -1 over 5m', /per second\|minute\|hour over WINDOW/],
    ['rate(battery) < -1 per week over 5m', /per must be/],
  ] as const) {
    assert.throws(() => parseCondition(text), message, text);
  }
});
