// Image reference parsing and normalisation (distribution grammar, docker's defaults).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReference, parseReference } from '../../src/image/reference.js';

test('normalisation', () => {
  const n = (s: string) => formatReference(parseReference(s));
  assert.equal(n('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(n('user/app:1.2'), 'docker.io/user/app:1.2');
  assert.equal(n('localhost/busybox'), 'localhost/busybox:latest');
  assert.equal(n('127.0.0.1:5000/a/b:v1'), '127.0.0.1:5000/a/b:v1');
  assert.equal(n(`registry.k8s.io/pause@sha256:${'a'.repeat(64)}`), `registry.k8s.io/pause@sha256:${'a'.repeat(64)}`);
  assert.equal(n(`quay.io/x/y:t@sha256:${'b'.repeat(64)}`), `quay.io/x/y:t@sha256:${'b'.repeat(64)}`);
});

test('bad references are named with the reason', () => {
  assert.throws(() => parseReference('Busybox'), /invalid image reference "Busybox": the name must be lowercase/);
  assert.throws(() => parseReference('busybox:bad tag'), /is not a valid tag/);
  assert.throws(() => parseReference('busybox@sha256:xyz'), /the digest must be sha256: and 64 hex digits/);
  assert.throws(() => parseReference(''), /empty/);
});
