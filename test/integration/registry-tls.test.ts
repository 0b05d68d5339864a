// TLS against Debian's docker-registry serving HTTPS on 127.0.0.1 with a certificate from a CA made here with
// openssl: without configuration the certificate is not trusted, which is one error naming the host, the problem
// and the settings that fix it (never a silent retry over plain HTTP); registries.json's `ca` trusts the CA for
// that host (pull and push), `insecure` skips verification; a CA that did not sign the certificate is refused.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-tls-'));
const skiff = (root: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [skiffBin, '--root', join(dir, root), '--state', join(dir, `${root}-state`), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

/** A CA (key and certificate) under `name`; returns the certificate's path. */
function makeCa(name: string): string {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', '1', '-subj', `/CN=${name}`);
  return join(dir, `${name}.pem`);
}

/** The registry's root with registries.json holding `settings` for the registry's host. */
function rootWith(root: string, settings: Record<string, unknown>): string {
  mkdirSync(join(dir, root), { recursive: true });
  writeFileSync(join(dir, root, 'registries.json'), JSON.stringify({ registries: { [registry.address]: settings } }));
  return root;
}

let registry: TestRegistry;
let ca: string;
let ref: string;

before(async () => {
  ca = makeCa('skiff-test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'), '-subj', '/CN=127.0.0.1');
  openssl('x509', '-req', '-in', join(dir, 'server.csr'), '-CA', ca, '-CAkey', join(dir, 'skiff-test-ca.key'), '-CAcreateserial',
    '-out', join(dir, 'server.pem'), '-days', '1', '-extfile', join(dir, 'san.ext'));
  registry = await startRegistry(undefined, undefined, { certificate: join(dir, 'server.pem'), key: join(dir, 'server.key') });
  ref = `${registry.address}/tls/bb:1`;
  assert.equal(skiff('src', 'save', '-o', join(dir, 'bb.tar'), 'localhost/busybox').code, 0);
  const push = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${join(dir, 'bb.tar')}`, `docker://${ref}`], { encoding: 'utf8' });
  assert.equal(push.status, 0, push.stderr);
});

after(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a registry speaking TLS on loopback', () => {
  test('an untrusted certificate: one line naming the host, the problem and what to configure; no plain HTTP, nothing stored', () => {
    const r = skiff('plain', 'pull', ref);
    assert.equal(r.code, 1);
    const host = registry.address.replace(/\./g, '\\.');
    assert.match(r.err, new RegExp(`^skiff: ${host}: the TLS certificate of ${host} is not trusted: unable to verify the first certificate \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\); `
      + `trust its CA with registries\\["${host}"\\]\\.ca \\(a PEM file\\) in ${join(dir, 'plain', 'registries.json').replace(/\./g, '\\.')}, or skip verification with registries\\["${host}"\\]\\.insecure: true\\n$`));
    assert.doesNotMatch(r.err, /HTTP 400/);
    assert.equal(skiff('plain', 'images', '-q').out, '');
  });

  test('registries.json "ca" trusts the CA for that host: pull, run and push', () => {
    const root = rootWith('ca', { ca });
    const p = skiff(root, 'pull', ref);
    assert.equal(p.code, 0, p.err);
    const r = skiff(root, 'run', '--rm', ref, 'echo', 'over TLS');
    assert.equal(r.out, 'over TLS\n', r.err);
    const pushed = `${registry.address}/tls/pushed:2`;
    assert.equal(skiff(root, 'tag', ref, pushed).code, 0);
    const push = skiff(root, 'push', pushed);
    assert.equal(push.code, 0, push.err);
    assert.match(push.out, new RegExp(`^${pushed.replace(/\./g, '\\.')}@sha256:[a-f0-9]{64}\\n$`));
  });

  test('"insecure": true skips verification', () => {
    const root = rootWith('insecure', { insecure: true });
    const p = skiff(root, 'pull', '-q', ref);
    assert.equal(p.code, 0, p.err);
    assert.equal(p.out, `${ref}\n`);
  });

  test('a CA that did not sign the certificate is refused the same way', () => {
    const root = rootWith('other-ca', { ca: makeCa('skiff-other-ca') });
    const r = skiff(root, 'pull', ref);
    assert.equal(r.code, 1);
    assert.match(r.err, /the TLS certificate of 127\.0\.0\.1:\d+ is not trusted: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    assert.deepEqual(readdirSync(join(dir, root)), ['registries.json'], 'nothing stored');
  });

  test('a bad ca setting is named by its field before anything is fetched', () => {
    const root = rootWith('bad-ca', { ca: join(dir, 'none.pem') });
    const r = skiff(root, 'pull', ref);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`registries\\.json: registries\\["127\\.0\\.0\\.1:\\d+"\\]\\.ca: cannot read ${join(dir, 'none.pem').replace(/\./g, '\\.')}: ENOENT`));
  });
  // The launcher's #! line starts node without NODE_EXTRA_CA_CERTS (src/cli/common/deferred-ca.ts): run as a
  // program, the way a user runs it, not as `node skiff.cjs`.
  const asProgram = (root: string, env: Record<string, string>, ...args: string[]) => {
    const r = spawnSync(skiffBin, ['--root', join(dir, root), '--state', join(dir, `${root}-state`), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  test('NODE_EXTRA_CA_CERTS is trusted when node starts without it, and is put back for what skiff starts', () => {
    const p = asProgram('extra-ca', { NODE_EXTRA_CA_CERTS: ca }, 'pull', '-q', ref);
    assert.equal(p.code, 0, p.err);
    const r = asProgram('extra-ca', { NODE_EXTRA_CA_CERTS: ca }, 'run', '--rm', '-e', 'NODE_EXTRA_CA_CERTS', '-e', 'SKIFF_DEFERRED_CA_CERTS', ref, 'env');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^NODE_EXTRA_CA_CERTS=${ca.replace(/\./g, '\\.')}$`, 'm'));
    assert.doesNotMatch(r.out, /SKIFF_DEFERRED_CA_CERTS/);
  });

  test('a NODE_EXTRA_CA_CERTS that cannot be read is named when a pull needs it; nothing stored', () => {
    const missing = join(dir, 'missing-ca.pem');
    const r = asProgram('extra-ca-missing', { NODE_EXTRA_CA_CERTS: missing }, 'pull', ref);
    assert.equal(r.code, 1);
    assert.equal(r.err, `skiff: NODE_EXTRA_CA_CERTS: cannot read ${missing}: ENOENT\n`);
    assert.equal(asProgram('extra-ca-missing', { NODE_EXTRA_CA_CERTS: missing }, 'images', '-q').out, '');
  });
});
