// skiff run with the built-in default image: made locally on first use, an overlay rootfs, the image config and
// the flags applied, the exit status passed on, nothing left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../helpers/registry.js';

const skiff = fileURLToPath(new URL('../../bin/skiff.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-run-'));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [skiff, '--root', join(dir, 'root'), '--state', join(dir, 'state'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

after(() => rmSync(dir, { recursive: true, force: true }));

describe('skiff run', () => {
  test('the default image runs with PID 1, its own hostname, and leaves nothing behind', () => {
    const r = run('run', '--rm', '--name', 'r1', 'localhost/busybox:latest', 'sh', '-c', 'echo pid=$$ host=$(hostname); ls /sys/class/net');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n'), ['pid=1 host=r1', 'lo']);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'the overlay is unmounted');
    assert.deepEqual(readdirSync(join(dir, 'state', 'containers')), []);
    assert.deepEqual(readdirSync(join(dir, 'root', 'containers')), []);
    assert.match(run('images').out, /localhost\/busybox:latest/);
  });

  test('env, workdir, user and entrypoint flags; the exit status comes back', () => {
    const r = run('run', '--rm', '-e', 'FOO=bar', '-w', '/etc', '-u', 'daemon', 'localhost/busybox', 'sh', '-c', 'echo $FOO $(pwd) $(id -u):$(id -g); exit 7');
    assert.equal(r.code, 7, r.err);
    assert.equal(r.out.trim(), 'bar /etc 1:1');
    const e = run('run', '--rm', '--entrypoint', 'echo', 'localhost/busybox', 'from', 'entrypoint');
    assert.equal(e.out.trim(), 'from entrypoint');
  });

  test('a missing image is pulled from the registry, then run', async (t) => {
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const archive = join(dir, 'bb.tar');
    assert.equal(run('save', '-o', archive, 'localhost/busybox').code, 0);
    const copy = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${registry.address}/pulled:1`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    const r = run('run', '--rm', `${registry.address}/pulled:1`, 'sh', '-c', 'echo $HOME; cat /etc/hostname');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '/root\nbusybox\n');
    assert.match(run('images').out, /pulled/);
    assert.equal(run('rmi', `${registry.address}/pulled:1`).code, 0);
    rmSync(archive);
  });

  test('image mount (read-only, --writable) and unmount', () => {
    const ro = run('image', 'mount', 'localhost/busybox');
    assert.equal(ro.code, 0, ro.err);
    const path = ro.out.trim();
    assert.ok(readFileSync(join(path, 'etc/passwd'), 'utf8').startsWith('root:'));
    assert.throws(() => writeFileSync(join(path, 'x'), ''), /EROFS/);
    assert.equal(run('image', 'mount', 'localhost/busybox').out.trim(), path, 'mounting again gives the same path');
    assert.equal(run('image', 'unmount', 'localhost/busybox').code, 0);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(path));
    assert.match(run('image', 'unmount', 'localhost/busybox').err, /^skiff: image "localhost\/busybox" is not mounted\n$/);
    const rw = run('image', 'mount', '--writable', 'localhost/busybox').out.trim();
    writeFileSync(join(rw, 'scratch'), 'x');
    assert.equal(run('image', 'umount', 'localhost/busybox').code, 0);
    assert.deepEqual(readdirSync(join(dir, 'root', 'containers')), []);
  });

  test('bad input: one error line, non-zero exit', () => {
    // A missing image is pulled; a registry that is not there is one clear error (port 9 on loopback: nothing listens).
    const missing = run('run', '--rm', '127.0.0.1:9/no-such-image');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^skiff: 127\.0\.0\.1:9: cannot reach the registry/);
    assert.equal(missing.err.trim().split('\n').length, 1);
    assert.match(run('run', '--rm', '-t', 'localhost/busybox', 'true').err, /^skiff: -t: standard input is not a terminal\n$/);
    assert.match(run('run', '--rm', '-w', 'etc', 'localhost/busybox', 'true').err, /^skiff: -w: "etc" is not an absolute path\n$/);
    assert.match(run('run', 'localhost/busybox', 'true').err, /--rm is required for now/);
    assert.match(run('run', '--rm', '-u', 'nobody-here', 'localhost/busybox', 'true').err, /^skiff: -u: user "nobody-here" is not in the image's \/etc\/passwd\n$/);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'a failed run unmounts its overlay');
  });
});
