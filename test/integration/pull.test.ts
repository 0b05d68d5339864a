// skiff pull from a real registry (Debian's docker-registry on 127.0.0.1): an image skopeo pushed is pulled,
// verified, and runs; its config's platform is recorded and must be the one --platform asks for; errors name the
// image and the registry's answer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImageStore } from '../../src/image/image-store.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-pull-'));
const skiff = (root: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [skiffBin, '--root', join(dir, root), '--state', join(dir, `${root}-state`), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
let registry: TestRegistry;

before(async () => {
  registry = await startRegistry();
  assert.equal(skiff('src', 'run', '--rm', 'localhost/busybox', 'true').code, 0);
  assert.equal(skiff('src', 'save', '-o', join(dir, 'bb.tar'), 'localhost/busybox').code, 0);
  const push = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${join(dir, 'bb.tar')}`, `docker://${registry.address}/skiff/bb:1`], { encoding: 'utf8' });
  assert.equal(push.status, 0, push.stderr);
});

after(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('skiff pull', () => {
  test('an image pushed by skopeo is pulled and runs', () => {
    const ref = `${registry.address}/skiff/bb:1`;
    const p = skiff('dst', 'pull', ref);
    assert.equal(p.code, 0, p.err);
    assert.equal(p.out.trim(), ref);
    const r = skiff('dst', 'run', '--rm', ref, 'echo', 'pulled and running');
    assert.equal(r.out.trim(), 'pulled and running', r.err);
    // Again: everything is already there, nothing is downloaded.
    const again = skiff('dst', 'pull', ref);
    assert.doesNotMatch(again.err, /downloading/);
    assert.match(again.err, new RegExp(`Status: Image is up to date for ${ref.replace(/\./g, '\\.')}`));
    assert.equal(again.out, `${ref}\n`);
  });

  test('--platform of a single-platform image is checked against its config: a mismatch names both and stores nothing', async () => {
    const ref = `${registry.address}/skiff/bb:1`;
    const wrong = skiff('plat', 'pull', '--platform', 'linux/arm64', ref);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.err.split('\n').slice(-2)[0], `skiff: ${ref}: the image does not match the specified platform: wanted linux/arm64, actual linux/amd64`);
    assert.doesNotMatch(wrong.err, /done/);
    assert.equal(skiff('plat', 'images', '-q').out, '');
    const blobs = join(dir, 'plat', 'content', 'blobs', 'sha256');
    assert.deepEqual(existsSync(blobs) ? readdirSync(blobs) : [], [], 'not even the config is kept');
    const right = skiff('plat', 'pull', '-q', '--platform', 'linux/x86_64', ref);
    assert.equal(right.code, 0, right.err);
    assert.equal((await new ImageStore(join(dir, 'plat')).get(ref))?.platform, 'linux/amd64', 'the platform the config says');
  });

  test('skiff push is read back by skopeo inspect and skopeo copy', () => {
    const ref = `${registry.address}/skiff/pushed:2`;
    assert.equal(skiff('src', 'tag', 'localhost/busybox', ref).code, 0);
    const p = skiff('src', 'push', ref);
    assert.equal(p.code, 0, p.err);
    assert.match(p.out.trim(), new RegExp(`^${ref}@sha256:[a-f0-9]{64}$`));
    const inspect = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout).Digest, p.out.trim().split('@')[1]);
    const copy = spawnSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'copied')}:x`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    assert.match(skiff('src', 'push', ref).err, /already there/);
  });

  test('push while an image loaded from an archive is in the store; a pulled image still lends its blobs', () => {
    // A loaded image's source is its archive, not a repository: the mount lookup once parsed it as a reference
    // and every push failed (issue 11).
    const archive = join(dir, 'bb-docker.tar');
    assert.equal(skiff('src', 'save', '--format', 'docker-archive', '-o', archive, 'localhost/busybox').code, 0);
    const loaded = skiff('mixed', 'load', '-i', archive);
    assert.equal(loaded.code, 0, loaded.err);
    const ref = `${registry.address}/a/b:1`;
    assert.equal(skiff('mixed', 'tag', 'localhost/busybox', ref).code, 0);
    const p = skiff('mixed', 'push', ref);
    assert.equal(p.code, 0, p.err);
    assert.match(p.out.trim(), new RegExp(`^${ref}@sha256:[a-f0-9]{64}$`));
    // Pulled from skiff/bb, the same blobs: a push to a new repository mounts them from there.
    assert.equal(skiff('mixed', 'pull', '-q', `${registry.address}/skiff/bb:1`).code, 0);
    const copy = `${registry.address}/c/d:1`;
    assert.equal(skiff('mixed', 'tag', 'localhost/busybox', copy).code, 0);
    const mounted = skiff('mixed', 'push', copy);
    assert.equal(mounted.code, 0, mounted.err);
    assert.match(mounted.err, /mounted from skiff\/bb/);
  });

  test('a registry with Basic auth: refused without credentials, login checks them, pull works after', async () => {
    const locked = await startRegistry({ name: 'skiffy', password: 's3cret' });
    try {
      const ref = `${locked.address}/private/bb:1`;
      const push = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', 'skiffy:s3cret', `oci-archive:${join(dir, 'bb.tar')}`, `docker://${ref}`], { encoding: 'utf8' });
      assert.equal(push.status, 0, push.stderr);
      const authfile = join(dir, 'auth.json');
      const login = (password: string) => spawnSync(process.execPath, [skiffBin, 'login', '-u', 'skiffy', '--password-stdin', '--authfile', authfile, locked.address], { input: password + '\n', encoding: 'utf8' });
      assert.match(skiff('auth', 'pull', '--authfile', authfile, ref).err, /HTTP 401/);
      const wrong = login('nope');
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /^skiff: 127\.0\.0\.1:\d+: the registry refused the credentials of "skiffy": HTTP 401\n$/);
      assert.equal(login('s3cret').stdout, 'Login Succeeded\n');
      const p = skiff('auth', 'pull', '--authfile', authfile, ref);
      assert.equal(p.code, 0, p.err);
      assert.equal(spawnSync(process.execPath, [skiffBin, 'logout', '--authfile', authfile, locked.address]).status, 0);
      assert.match(readFileSync(authfile, 'utf8'), /"auths": \{\}/);
    } finally {
      await locked.stop();
    }
  });

  test('errors name the image and what the registry said; nothing is stored', () => {
    const missing = skiff('err', 'pull', `${registry.address}/skiff/bb:nope`);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /skiff\/bb: manifest nope: HTTP 404 \(MANIFEST_UNKNOWN/);
    assert.match(skiff('err', 'pull', '127.0.0.1:1/x:1').err, /127\.0\.0\.1:1: cannot reach the registry/);
    assert.match(skiff('err', 'pull', 'Bad/Ref').err, /invalid image reference "Bad\/Ref"/);
    assert.equal(skiff('err', 'images', '-q').out, '');
  });
});
