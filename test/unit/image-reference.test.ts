// Image reference parsing and normalisation (distribution grammar, docker's defaults).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReference, normalizeReference, parseReference, repositoryOf } from '../../src/image/reference.js';

test('normalisation', () => {
  const n = normalizeReference;
  assert.equal(n('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(n('user/app:1.2'), 'docker.io/user/app:1.2');
  assert.equal(n('index.docker.io/library/busybox'), 'docker.io/library/busybox:latest');
  assert.equal(n('localhost/busybox'), 'localhost/busybox:latest');
  assert.equal(n('localhost:5000/busybox'), 'localhost:5000/busybox:latest');
  assert.equal(n('127.0.0.1:5000/a/b:v1'), '127.0.0.1:5000/a/b:v1');
  assert.equal(n('[::1]:5000/a:v1'), '[::1]:5000/a:v1');
  assert.equal(n('Registry.Lan/a'), 'Registry.Lan/a:latest', 'an uppercase first component is a host');
  assert.equal(n(`registry.k8s.io/pause@sha256:${'a'.repeat(64)}`), `registry.k8s.io/pause@sha256:${'a'.repeat(64)}`);
  assert.equal(n(`quay.io/x/y:t@sha256:${'b'.repeat(64)}`), `quay.io/x/y:t@sha256:${'b'.repeat(64)}`);
  assert.equal(n('a/b__c/d-e.f_g:1'), 'docker.io/a/b__c/d-e.f_g:1');
  assert.equal(repositoryOf(parseReference('busybox:1')), 'docker.io/library/busybox');
  assert.deepEqual(parseReference(`x@sha256:${'c'.repeat(64)}`), { domain: 'docker.io', path: 'library/x', tag: undefined, digest: `sha256:${'c'.repeat(64)}` });
  assert.equal(formatReference({ domain: 'h:1', path: 'p', tag: 't' }), 'h:1/p:t');
});

test('bad references are named with the reason', () => {
  assert.throws(() => parseReference('Busybox'), /invalid image reference "Busybox": the repository name must be lowercase/);
  assert.throws(() => parseReference('busybox:bad tag'), /"bad tag" is not a valid tag/);
  assert.throws(() => parseReference('busybox:.x'), /not starting with \. or -/);
  assert.throws(() => parseReference('busybox@sha256:xyz'), /the digest must be sha256: and 64 lowercase hex digits/);
  assert.throws(() => parseReference(''), /it is empty/);
  assert.throws(() => parseReference('a//b'), /repository name/);
  assert.throws(() => parseReference('-bad.host:5000/x'), /"-bad\.host:5000" is not a registry host\[:port\]/);
  assert.throws(() => parseReference(`${'a'.repeat(250)}/b/c`), /longer than 255 characters/);
});
