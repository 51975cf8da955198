import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, matchesSelector } from './selector.js';

function sel(s: string) {
  const r = parseSelector(s);
  if (!r.ok) throw new Error(r.message);
  return r.requirements;
}

test('equality, inequality, set and existence requirements', () => {
  const labels = { type: 'lekiwi', site: 'lab', zone: 'a' };
  assert.equal(matchesSelector(sel('type=lekiwi'), labels), true);
  assert.equal(matchesSelector(sel('type==lekiwi,site=lab'), labels), true);
  assert.equal(matchesSelector(sel('type=xle'), labels), false);
  assert.equal(matchesSelector(sel('site!=field'), labels), true);
  assert.equal(matchesSelector(sel('zone in (a,b)'), labels), true);
  assert.equal(matchesSelector(sel('zone notin (a)'), labels), false);
  assert.equal(matchesSelector(sel('zone'), labels), true);
  assert.equal(matchesSelector(sel('!gpu'), labels), true);
  assert.equal(matchesSelector(sel('gpu'), labels), false);
  assert.equal(matchesSelector(sel(''), labels), true, 'empty selector matches everything');
});

test('malformed selectors are refused with a reason', () => {
  for (const bad of ['=x', 'a=b=c', 'a in b', 'bad key=1', 'k=v!']) {
    const r = parseSelector(bad);
    assert.equal(r.ok, false, bad);
  }
});
