// containerd, through its runc shim (io.containerd.runc.v2 with the runtime binary swapped), drives skiff-runtime:
// run, run -d, exec, pause, resume, kill, delete. containerd runs on its own socket, root and state for the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeBusyboxRootfs } from '../../src/image/busybox-rootfs.js';
import { startContainerd, type TestContainerd } from '../helpers/containerd.js';

const runtime = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-ctrd-'));
const image = `localhost/skiff-ctrd-${process.pid}:latest`;
let containerd: TestContainerd;

const ctr = (...args: string[]) => containerd.ctr('skifftest', ...args);

before(async () => {
  containerd = await startContainerd(dir, { disabledPlugins: ['io.containerd.grpc.v1.cri'] });
  // An OCI archive of a busybox image, made with podman from a local rootfs (no registry needed).
  makeBusyboxRootfs(join(dir, 'rootfs'));
  assert.equal(spawnSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']).status, 0);
  assert.equal(spawnSync('podman', ['import', join(dir, 'rootfs.tar'), image]).status, 0);
  assert.equal(spawnSync('podman', ['save', '--format', 'oci-archive', '-o', join(dir, 'image.tar'), image]).status, 0);
  spawnSync('podman', ['rmi', '-f', image]);
  const imp = ctr('images', 'import', '--base-name', image.split(':')[0], join(dir, 'image.tar'));
  assert.equal(imp.code, 0, imp.err);
});

after(async () => {
  for (const id of ['d1', 'r1']) { ctr('task', 'kill', '-s', 'KILL', id); ctr('task', 'rm', '-f', id); ctr('containers', 'rm', id); }
  ctr('images', 'rm', image);
  await containerd.stop();
  spawnSync('umount', ['-R', join(dir, 'root')]);
  rmSync(dir, { recursive: true, force: true });
  // The shim keeps runc state for the namespace in /run/containerd/runc/<namespace>; our runtime made that directory.
  rmSync('/run/containerd/runc/skifftest', { recursive: true, force: true });
});

describe('containerd with skiff-runtime', () => {
  test('ctr run --rm prints from inside', () => {
    // ctr's default cgroup is /<namespace>/<id>; ours stay under the skiff subtree.
    const r = ctr('run', '--rm', '--runc-binary', runtime, '--cgroup', '/skiff/ctrtest-r1', image, 'r1', 'sh', '-c', 'echo pid=$$');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), 'pid=1');
  });

  test('run -d, exec, pause, resume, kill, delete', () => {
    assert.equal(ctr('run', '-d', '--runc-binary', runtime, '--cgroup', '/skiff/ctrtest-d1', image, 'd1', 'sleep', '1000').code, 0);
    const exec = ctr('task', 'exec', '--exec-id', 'e1', 'd1', 'sh', '-c', 'echo exec-in $(cat /proc/1/cmdline | tr "\\0" " ")');
    assert.equal(exec.out.trim(), 'exec-in sleep 1000', exec.err);
    assert.equal(ctr('task', 'pause', 'd1').code, 0);
    assert.match(ctr('task', 'ls').out, /d1\s+\d+\s+PAUSED/);
    assert.equal(ctr('task', 'resume', 'd1').code, 0);
    assert.equal(ctr('task', 'kill', '-s', 'KILL', 'd1').code, 0);
    for (let i = 0; i < 50 && !/d1\s+\d+\s+STOPPED/.test(ctr('task', 'ls').out); i++) spawnSync('sleep', ['0.1']);
    assert.equal(ctr('task', 'rm', 'd1').code, 0);
    assert.equal(ctr('containers', 'rm', 'd1').code, 0);
  });
});
