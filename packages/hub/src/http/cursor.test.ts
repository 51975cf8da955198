import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDeviceCursor, decodeEventCursor, encodeDeviceCursor, encodeEventCursor } from './cursor.js';
import { ApiError } from './errors.js';

function badCursor(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof ApiError && err.code === 'bad_cursor' && err.statusCode === 400);
}

test('device and event cursors round-trip and are URL-safe', () => {
  for (const id of ['a', 'robot-7', 'X_'.repeat(64)]) {
    const c = encodeDeviceCursor(id);
    assert.match(c, /^[A-Za-z0-9_-]+$/);
    assert.equal(decodeDeviceCursor(c), id);
  }
  for (const p of [0, 1, 250, 2 ** 53 - 1]) assert.equal(decodeEventCursor(encodeEventCursor(p)), p);
});

test('malformed cursors are refused with bad_cursor', () => {
  badCursor(() => decodeDeviceCursor('!!!'));
  badCursor(() => decodeDeviceCursor('not-a-cursor'));
  badCursor(() => decodeDeviceCursor(Buffer.from('d1:bad id').toString('base64url')));
  badCursor(() => decodeEventCursor(Buffer.from('e1:-1').toString('base64url')));
  badCursor(() => decodeEventCursor(Buffer.from('e1:1e3').toString('base64url')));
  badCursor(() => decodeEventCursor(Buffer.from('e1:99999999999999999').toString('base64url')));
  // Base64 with padding or stray characters is not the form we hand out.
  badCursor(() => decodeDeviceCursor(`${encodeDeviceCursor('robot')}=`));
});

test('a cursor of one listing is refused by the other', () => {
  badCursor(() => decodeEventCursor(encodeDeviceCursor('123')));
  badCursor(() => decodeDeviceCursor(encodeEventCursor(123)));
});
