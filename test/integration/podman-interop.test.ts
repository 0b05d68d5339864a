// podman, through conmon, drives skiff-runtime exactly as it drives runc: run, run -d, exec, exec -t, stop, rm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeBusyboxRootfs } from '../../src/image/busybox-rootfs.js';
import { removeEmptyCgroups } from '../helpers/foreign-cgroups.js';

const runtime = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));
const image = `localhost/skiff-interop-${process.pid}:latest`;
const dir = mkdtempSync(join(tmpdir(), 'skiff-podman-'));
// The runtime's default root: podman's cleanup process (started by conmon when a container exits) calls
// `delete --force` without the --runtime-flag options, so a custom --root would leave containers behind.
const runtimeRoot = '/run/skiff-runtime';
// Debian's podman defaults to rlimits above what this host lets a runtime without CAP_SYS_RESOURCE set, which runc
// refuses as well; and to the systemd cgroup manager, which skiff does not support.
const podmanArgs = ['--cgroup-manager', 'cgroupfs', '--runtime', runtime];
const runArgs = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

function podman(...args: string[]) {
  const r = spawnSync('podman', [...podmanArgs, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  makeBusyboxRootfs(join(dir, 'rootfs'));
  const tar = join(dir, 'rootfs.tar');
  assert.equal(spawnSync('tar', ['-C', join(dir, 'rootfs'), '-cf', tar, '.']).status, 0);
  const r = spawnSync('podman', ['import', tar, image], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

after(() => {
  spawnSync('podman', [...podmanArgs, 'rm', '-af']);
  spawnSync('podman', ['rmi', '-f', image]);
  rmSync(dir, { recursive: true, force: true });
  // podman's cgroupfs manager puts conmon in /libpod_parent/conmon and leaves it; the test started it, so it goes.
  removeEmptyCgroups(['libpod_parent/conmon', 'libpod_parent']);
});

describe('podman with skiff-runtime', () => {
  test('podman run --rm prints from inside and returns the exit code', () => {
    const r = podman('run', '--rm', ...runArgs, image, 'sh', '-c', 'echo pid=$$; exit 3');
    assert.equal(r.code, 3, r.err);
    assert.equal(r.out.trim(), 'pid=1');
  });

  test('run -d, exec, exec -t (console socket), stop, rm', () => {
    const id = podman('run', '-d', ...runArgs, image, 'sleep', '1000').out.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const exec = podman('exec', id, 'sh', '-c', 'echo exec-in $(cat /proc/1/cmdline | tr "\\0" " ")');
    assert.equal(exec.out.trim(), 'exec-in sleep 1000', exec.err);
    const tty = podman('exec', '-t', id, 'tty');
    assert.match(tty.out, /^\/dev\/pts\/\d+/, tty.err);
    assert.equal(podman('stop', '-t', '1', id).code, 0);
    assert.equal(podman('rm', id).code, 0);
    const left = spawnSync(runtime, ['--root', runtimeRoot, 'list', '-q'], { encoding: 'utf8' }).stdout;
    assert.ok(!left.includes(id), 'podman rm deleted the container in the runtime');
  });
});
