// Streaming tokens: single use, expired after a minute, at most 1000 waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { CriError } from '../../src/cri/grpc-error.js';
import { MAX_IN_FLIGHT, RequestCache } from '../../src/cri/streaming/request-cache.js';

test('a token gives its request once', () => {
  const cache = new RequestCache<string>();
  const token = cache.insert('exec c1');
  assert.match(token, /^[A-Za-z0-9_-]{11}$/);
  assert.equal(cache.consume(token), 'exec c1');
  assert.equal(cache.consume(token), undefined);
  assert.equal(cache.consume('never-issued'), undefined);
});

test('a token expires after its time to live', () => {
  let now = 0;
  const cache = new RequestCache<string>(60_000, () => now);
  const token = cache.insert('attach c1');
  now = 60_000;
  assert.equal(cache.consume(token), undefined);
});

test('at most MAX_IN_FLIGHT wait; expired ones make room', () => {
  let now = 0;
  const cache = new RequestCache<number>(1000, () => now);
  for (let i = 0; i < MAX_IN_FLIGHT; i++) cache.insert(i);
  assert.throws(() => cache.insert(-1), (e: CriError) => e.code === status.RESOURCE_EXHAUSTED && /maximum number of in-flight streaming requests/.test(e.message));
  now = 1000;
  assert.doesNotThrow(() => cache.insert(-1));
});
