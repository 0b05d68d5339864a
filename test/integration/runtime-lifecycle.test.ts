// The runtime library end to end on the real kernel: containers from a busybox bundle, checked from inside.
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { Scratch } from '../helpers/bundle.js';

let scratch: Scratch;
before(() => { scratch = new Scratch(); });
after(async () => { await scratch.cleanup(); });

/** Runs a container in the foreground with stdout and stderr captured to a file. */
async function runCapture(id: string, args: string[], edit?: (s: Spec) => void, keep = false) {
  const b = scratch.bundle(args, edit);
  const outPath = join(b.dir, 'out.txt');
  const fd = openSync(outPath, 'w');
  try {
    const exit = await scratch.runtime.run(id, { bundle: b.dir, stdio: ['ignore', fd, fd], keep });
    return { ...exit, out: readFileSync(outPath, 'utf8'), bundle: b };
  } finally {
    closeSync(fd);
  }
}

function cgroupDir(controller: string, id: string): string {
  return `/sys/fs/cgroup/${controller}/skiff/${id}`;
}

describe('runtime lifecycle', () => {
  test('PID 1, hostname and a network namespace with only lo', async () => {
    const r = await runCapture('t-ns', ['sh', '-c', 'echo pid=$$; hostname; cat /proc/net/dev | tail -n +3 | cut -d: -f1'],
      (s) => { s.hostname = 'boxy'; });
    assert.equal(r.exitCode, 0, r.out);
    assert.deepEqual(r.out.trim().split(/\s+/), ['pid=1', 'boxy', 'lo']);
    assert.ok(!existsSync(join(scratch.runtimeRoot, 't-ns')), 'state dir removed');
    assert.ok(!existsSync(cgroupDir('pids', 't-ns')), 'cgroup removed');
  });

  test('exit codes pass through', async () => {
    const r = await runCapture('t-exit', ['sh', '-c', 'exit 7']);
    assert.equal(r.exitCode, 7);
  });

  test('create, start, state, kill, delete', async () => {
    const rt = scratch.runtime;
    const b = scratch.bundle(['sleep', '1000']);
    const created = await rt.create('t-life', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    assert.equal(created.status, 'created');
    assert.ok(created.pid! > 0);
    assert.equal((await rt.state('t-life')).status, 'created');
    await assert.rejects(rt.create('t-life', { bundle: b.dir }), /already exists/);
    await rt.start('t-life');
    assert.equal((await rt.state('t-life')).status, 'running');
    await assert.rejects(rt.start('t-life'), /cannot start a container that is running/);
    await assert.rejects(rt.delete('t-life'), /without --force/);
    assert.deepEqual((await rt.list()).map((s) => s.id), ['t-life']);
    await rt.pause('t-life');
    assert.equal((await rt.state('t-life')).status, 'paused');
    await rt.resume('t-life');
    assert.equal((await rt.state('t-life')).status, 'running');
    await rt.update('t-life', { pids: { limit: 42 } });
    assert.equal(readFileSync(join(cgroupDir('pids', 't-life'), 'pids.max'), 'utf8').trim(), '42');
    await rt.kill('t-life', 'KILL');
    for (let i = 0; i < 200 && (await rt.state('t-life')).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await rt.state('t-life')).status, 'stopped');
    await assert.rejects(rt.kill('t-life', 'TERM'), /stopped/);
    await rt.delete('t-life');
    await assert.rejects(rt.state('t-life'), /does not exist/);
    assert.ok(!existsSync(cgroupDir('memory', 't-life')));
  });

  test('exec joins the running container', async () => {
    const rt = scratch.runtime;
    const b = scratch.bundle(['sleep', '1000']);
    await rt.create('t-exec', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    await rt.start('t-exec');
    const outPath = join(b.dir, 'exec.txt');
    const fd = openSync(outPath, 'w');
    const res = await rt.exec('t-exec', {
      args: ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; hostname; exit 3'],
      cwd: '/', env: ['PATH=/bin:/usr/bin'], user: { uid: 0, gid: 0 },
    }, { stdio: ['ignore', fd, fd] });
    const exit = await res.exit!;
    closeSync(fd);
    assert.equal(exit.exitCode, 3);
    const lines = readFileSync(outPath, 'utf8').trim().split('\n');
    assert.equal(lines[0].trim(), 'sleep 1000');
    assert.deepEqual((await rt.pids('t-exec')).length, 1, 'the exec process is gone, only init left');
    await rt.delete('t-exec', { force: true });
  });

  test('masked and read-only paths, capabilities, rlimits', async () => {
    const r = await runCapture('t-sec', ['sh', '-c',
      'wc -c < /proc/timer_list; ls /proc/acpi | wc -l; (echo 1 > /proc/sys/kernel/domainname) 2>&1 | grep -o "Read-only file system"; ' +
      'grep CapBnd /proc/self/status; ulimit -n; grep NoNewPrivs /proc/self/status']);
    assert.equal(r.exitCode, 0, r.out);
    const lines = r.out.trim().split('\n').map((l) => l.trim());
    assert.equal(lines[0], '0', '/proc/timer_list is masked by /dev/null');
    assert.equal(lines[1], '0', '/proc/acpi is masked by an empty tmpfs');
    assert.equal(lines[2], 'Read-only file system');
    // Default spec: CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10).
    assert.match(lines[3], /CapBnd:\s+0000000020000420/);
    assert.equal(lines[4], '1024');
    assert.match(lines[5], /NoNewPrivs:\s+1/);
  });

  test('memory limit: the OOM killer ends the container with 137, and it is counted', async () => {
    const r = await runCapture('t-oom', ['sh', '-c', 'a=$(head -c 200000000 /dev/zero | tr "\\0" x); echo survived'],
      (s) => { s.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } }; }, true);
    try {
      assert.equal(r.exitCode, 137, r.out);
      const cg = await scratch.runtime.cgroupOf('t-oom');
      assert.ok((await cg.oomKillCount()) >= 1);
    } finally {
      await scratch.runtime.delete('t-oom', { force: true });
    }
  });

  test('device rules: the usual nodes work, a device outside the rules is refused', async () => {
    const r = await runCapture('t-dev', ['sh', '-c', 'head -c 3 /dev/zero | wc -c; mknod /dev/sdx b 8 0 && head -c 1 /dev/sdx'], (s) => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_MKNOD');
    });
    const lines = r.out.trim().split('\n');
    assert.equal(lines[0].trim(), '3');
    assert.match(lines[1], /sdx: Operation not permitted/);
  });

  test('pids limit stops a fork bomb', async () => {
    const r = await runCapture('t-pids', ['sh', '-c', 'for i in $(seq 30); do sleep 2 & done; echo started'],
      (s) => { s.linux!.resources = { pids: { limit: 10 } }; });
    assert.match(r.out, /can't fork/);
    assert.ok(!r.out.includes('started') || r.out.split("can't fork").length > 10, r.out);
  });

  test('user namespace: a file made by root inside belongs to the mapped uid outside', async () => {
    const r = await runCapture('t-userns', ['sh', '-c', 'id -u; touch /tmp/made-inside'], (s) => {
      s.root!.readonly = false;
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    }, true);
    try {
      assert.equal(r.exitCode, 0, r.out);
      assert.equal(r.out.trim(), '0');
      const st = statSync(join(r.bundle.rootfs, 'tmp/made-inside'));
      assert.equal(st.uid, 200000);
      assert.equal(st.gid, 200000);
    } finally {
      await scratch.runtime.delete('t-userns', { force: true });
    }
  });

  test('hooks run in order with the state on stdin', async () => {
    const log = join(scratch.dir, 'hooks.log');
    const hook = (name: string) => ({
      path: '/bin/sh',
      args: ['sh', '-c', `read -r state; echo "${name} $(echo "$state" | grep -o '"status":"[a-z]*"')" >> ${log}`],
    });
    const r = await runCapture('t-hooks', ['true'], (s) => {
      s.hooks = {
        prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')],
        poststart: [hook('poststart')], poststop: [hook('poststop')],
      };
    });
    assert.equal(r.exitCode, 0, r.out);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']);
    assert.match(lines[4], /"status":"stopped"/);
  });

  test('startContainer hooks run inside the container, before the process, with the state', async () => {
    const r = await runCapture('t-start-hook', ['cat', '/dev/shm/hooked'], (s) => {
      s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/shm/hooked'] }] };
    });
    assert.equal(r.exitCode, 0, r.out);
    const state = JSON.parse(r.out);
    assert.equal(state.id, 't-start-hook');
    assert.ok(state.pid > 0);
  });

  test('concurrent commands on one container are serialized: one create wins, deletes do not trip', async () => {
    const b = scratch.bundle(['sleep', '1000']);
    const creates = await Promise.allSettled([1, 2, 3].map(() =>
      scratch.runtime.create('t-race', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] })));
    assert.equal(creates.filter((c) => c.status === 'fulfilled').length, 1);
    assert.ok(creates.filter((c) => c.status === 'rejected').every((c) => /already exists/.test(String((c as PromiseRejectedResult).reason))));
    await Promise.all([scratch.runtime.kill('t-race', 'KILL'), scratch.runtime.pause('t-race').catch(() => {})]);
    await Promise.all([1, 2].map(() => scratch.runtime.delete('t-race', { force: true })));
    await assert.rejects(scratch.runtime.state('t-race'), /does not exist/);
    assert.ok(!existsSync(cgroupDir('freezer', 't-race')));
  });

  test('a failing hook fails create and leaves nothing', async () => {
    const b = scratch.bundle(['true'], (s) => { s.hooks = { createRuntime: [{ path: '/bin/false' }] }; });
    await assert.rejects(scratch.runtime.create('t-badhook', { bundle: b.dir }), /hooks\.createRuntime\[0\]/);
    assert.ok(!existsSync(join(scratch.runtimeRoot, 't-badhook')));
    assert.ok(!existsSync(cgroupDir('pids', 't-badhook')));
  });

  test('a mount that fails names its field and rolls back', async () => {
    const b = scratch.bundle(['true'], (s) => {
      s.mounts!.push({ destination: '/mnt/x', type: 'no-such-fs', source: 'none' });
    });
    const n = b.spec.mounts!.length - 1;
    await assert.rejects(scratch.runtime.create('t-badmount', { bundle: b.dir }), new RegExp(`mounts\\[${n}\\]`));
    assert.ok(!existsSync(join(scratch.runtimeRoot, 't-badmount')));
    assert.ok(!existsSync(cgroupDir('memory', 't-badmount')));
  });

  test('a bad config.json names every bad field and leaves nothing', async () => {
    const b = scratch.bundle(['true'], (s) => {
      (s.process as unknown as Record<string, unknown>).cwd = 'relative';
      s.linux!.namespaces!.push({ type: 'bogus' as 'pid' });
    });
    await assert.rejects(scratch.runtime.create('t-badcfg', { bundle: b.dir }), (err: Error) => {
      assert.match(err.message, /process\.cwd/);
      assert.match(err.message, /linux\.namespaces\[\d\]/);
      return true;
    });
    assert.ok(!existsSync(join(scratch.runtimeRoot, 't-badcfg')));
  });
});
