// Random IDs and draws from /dev/urandom (src/common/random.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBelow, randomBytes, randomHex } from '../../src/common/random.js';

test('randomBytes and randomHex give the length asked for, and differ between calls', () => {
  assert.equal(randomBytes(0).length, 0);
  assert.equal(randomBytes(33).length, 33);
  const ids = new Set(Array.from({ length: 100 }, () => randomHex(32)));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
});

test('randomBelow stays in [0, max) and reaches every value', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const n = randomBelow(7);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 7, `${n}`);
    seen.add(n);
  }
  assert.equal(seen.size, 7);
  assert.equal(randomBelow(1), 0);
  assert.ok(randomBelow(2 ** 32) < 2 ** 32);
});

test('randomBelow refuses a bound it cannot draw below', () => {
  for (const max of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) assert.throws(() => randomBelow(max), RangeError);
});
