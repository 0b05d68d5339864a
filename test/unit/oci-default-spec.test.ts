// `skiff-runtime spec` must print what `runc spec` prints (runc is installed on the test machines; no root needed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { validateSpec } from '../../src/runtime/validate.js';
import { fakeHost } from './fake-host.js';

function runcSpec(args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-spec-'));
  try {
    execFileSync('runc', ['spec', ...args], { cwd: dir });
    return readFileSync(join(dir, 'config.json'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the default spec is byte for byte runc spec\'s', () => {
  assert.equal(JSON.stringify(defaultSpec(), null, '\t'), runcSpec([]));
});

test('the rootless spec is byte for byte runc spec --rootless\'s', () => {
  const uid = process.getuid!(), gid = process.getgid!();
  assert.equal(JSON.stringify(defaultSpec({ rootless: true, uid, gid }), null, '\t'), runcSpec(['--rootless']));
});

test('both validate', () => {
  validateSpec(defaultSpec(), fakeHost());
  validateSpec(defaultSpec({ rootless: true, uid: 1000, gid: 1000 }), fakeHost());
});
