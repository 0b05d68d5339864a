// The launch plan is a pure function of (config.json, host facts): these tests read the steps, no root needed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { MS } from '../../src/oci/mount-options.js';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { buildCreatePlan, buildExecPlan, type CreatePlanOptions } from '../../src/runtime/plan/index.js';
import { CLONE } from '../../src/runtime/plan/constants.js';
import { fakeHost } from './fake-host.js';

const opts: CreatePlanOptions = {
  containerId: 'c1', bundle: '/b', rootfs: '/b/rootfs', cgroupsPath: '/skiff/c1', parentMode: 'exit',
  execFifo: '/run/x/c1/exec.fifo', bindSourceKinds: {},
};

function spec(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  edit?.(s);
  return s;
}

const ops = (steps: { op: string }[]) => steps.map((s) => s.op);

describe('create plan', () => {
  test('the default spec: clone with five namespaces, mounts, pivot_root, privileges, fifo, exec', () => {
    const steps = buildCreatePlan(spec(), fakeHost(), opts);
    const clone = steps.find((s) => s.op === 'clone')!;
    assert.equal(clone.args[0], CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
    assert.equal(clone.args[1], 'exit');
    const o = ops(steps);
    const order = ['mkfifo', 'clone', 'setsid', 'keyring', 'exec-fifo', 'pivot-root', 'mknod', 'symlink', 'mount', 'hostname',
      'readonly', 'mask', 'umask', 'rlimit', 'no-new-privs', 'close-fds', 'chdir', 'capbset', 'keepcaps', 'user', 'keepcaps',
      'capset', 'resolve-exec', 'ready', 'exec-wait', 'exec'];
    let last = -1;
    for (const op of order) {
      const i = o.indexOf(op, last + 1);
      assert.ok(i > last, `${op} comes after the previous steps: ${o.join(' ')}`);
      last = i;
    }
    assert.ok(o.indexOf('exec-fifo') < o.indexOf('pivot-root'), 'the fifo is opened while the host path is reachable');
    const procMount = steps.find((s) => s.op === 'mount-in' && s.args[3] === 'proc')!;
    assert.equal(procMount.field, 'mounts[0]');
    assert.deepEqual(steps.at(-1)!.args, [1, 'sh', 2, ...spec().process!.env!]);
  });

  test('/ is made rslave and the rootfs bound onto itself before any mount', () => {
    const steps = buildCreatePlan(spec(), fakeHost(), opts);
    const first = steps.filter((s) => s.op === 'mount').slice(0, 2);
    assert.deepEqual(first[0].args, ['', '/', '', MS.SLAVE | MS.REC, '']);
    assert.deepEqual(first[1].args, ['/b/rootfs', '/b/rootfs', '', MS.BIND | MS.REC, '']);
  });

  test('a read-only bind mount is a bind then a remount; propagation is its own step', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'nosuid', 'rshared'] });
    }), fakeHost(), { ...opts, bindSourceKinds: { '/srv/data': 'dir' } });
    const mine = steps.filter((s) => s.field === 'mounts[7]');
    assert.deepEqual(ops(mine), ['mkdir-in', 'mount-in', 'mount-in', 'mount-in']);
    assert.equal(mine[1].args[4], MS.BIND | MS.REC);
    assert.equal(mine[2].args[4], MS.RDONLY | MS.NOSUID | MS.BIND | MS.REMOUNT);
    assert.equal(mine[3].args[4], MS.SHARED | MS.REC);
  });

  test('a file bind source gets a file mount point', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.mounts!.push({ destination: '/etc/resolv.conf', source: '/etc/resolv.conf', options: ['bind'] });
    }), fakeHost(), { ...opts, bindSourceKinds: { '/etc/resolv.conf': 'file' } });
    assert.equal(steps.find((s) => s.field === 'mounts[7]')!.op, 'touch-in');
  });

  test('user namespace: joins first, become root, devices bound from the host instead of mknod', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user' }, { type: 'network', path: '/run/netns/x' } as never);
      s.linux!.namespaces = s.linux!.namespaces!.filter((n, i, a) => a.findIndex((m) => m.type === n.type) === i || n.path);
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }), fakeHost(), opts);
    assert.ok((steps.find((s) => s.op === 'clone')!.args[0] as number) & CLONE.NEWUSER);
    const afterClone = ops(steps.slice(steps.findIndex((s) => s.op === 'clone') + 1));
    assert.equal(afterClone[0], 'user');
    assert.ok(!afterClone.includes('mknod'));
    assert.ok(steps.some((s) => s.op === 'mount-in' && s.args[1] === '/dev/null'));
  });

  test('joined namespaces are setns steps before clone, the user namespace first', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.namespaces = [{ type: 'network', path: '/run/netns/n' }, { type: 'user', path: '/proc/1/ns/user' }, { type: 'mount' }];
    }), fakeHost(), opts);
    const setns = steps.filter((s) => s.op === 'setns');
    assert.deepEqual(setns.map((s) => s.args[0]), ['/proc/1/ns/user', '/run/netns/n']);
    assert.ok(steps.indexOf(setns[1]) < steps.findIndex((s) => s.op === 'clone'));
  });

  test('cgroup namespace is unshared after clone (we must be in our cgroup first); time namespace before', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'cgroup' }, { type: 'time' });
      s.linux!.timeOffsets = { monotonic: { secs: 10 } };
    }), fakeHost(), opts);
    const o = ops(steps);
    const clone = o.indexOf('clone');
    assert.ok(!((steps[clone].args[0] as number) & (CLONE.NEWCGROUP | CLONE.NEWTIME)));
    assert.equal(steps[clone + 1].args[0], CLONE.NEWCGROUP);
    const timeUnshare = steps.findIndex((s) => s.op === 'unshare' && s.args[0] === CLONE.NEWTIME);
    assert.ok(timeUnshare >= 0 && timeUnshare < clone);
    assert.deepEqual(steps[timeUnshare + 1].args, ['/proc/self/timens_offsets', 'monotonic 10 0\n']);
  });

  test('seccomp goes before the privilege drop without no_new_privs, last with it', () => {
    const seccomp = { defaultAction: 'SCMP_ACT_ALLOW' as const, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' as const }] };
    const withNnp = ops(buildCreatePlan(spec((s) => { s.linux!.seccomp = seccomp; }), fakeHost(), opts));
    assert.ok(withNnp.indexOf('seccomp-load') > withNnp.indexOf('exec-wait'));
    assert.equal(withNnp.at(-2), 'seccomp-load');
    const noNnp = ops(buildCreatePlan(spec((s) => { s.linux!.seccomp = seccomp; s.process!.noNewPrivileges = false; }), fakeHost(), opts));
    assert.ok(noNnp.indexOf('seccomp-load') < noNnp.indexOf('capbset'));
  });

  test('hooks: a sync point before pivot_root, startContainer hooks after the fifo with the state', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.hooks = { createRuntime: [{ path: '/bin/a' }], startContainer: [{ path: '/bin/b', args: ['b', 'x'], timeout: 3 }] };
    }), fakeHost(), opts);
    const o = ops(steps);
    assert.ok(o.indexOf('sync') < o.indexOf('pivot-root'));
    const hook = steps.find((s) => s.op === 'hook')!;
    assert.deepEqual(hook.args, ['/bin/b', 3, '@state', 2, 'b', 'x', 0]);
    assert.ok(o.indexOf('hook') > o.indexOf('exec-wait'));
  });

  test('terminal: connect before pivot_root, the pty after it; no setsid of our own', () => {
    const o = ops(buildCreatePlan(spec((s) => { s.process!.terminal = true; }), fakeHost(), { ...opts, consoleSocket: '/tmp/c.sock' }));
    assert.ok(o.indexOf('console-connect') < o.indexOf('pivot-root'));
    assert.ok(o.indexOf('console') > o.indexOf('pivot-root'));
    assert.ok(!o.includes('setsid'));
  });

  test('--no-pivot chroots; read-only root is a remount after the masks', () => {
    const o = ops(buildCreatePlan(spec(), fakeHost(), { ...opts, noPivot: true }));
    assert.ok(o.includes('chroot') && !o.includes('pivot-root'));
  });

  test('ambient capabilities are kept only where also permitted and inheritable', () => {
    const steps = buildCreatePlan(spec((s) => { s.process!.capabilities!.inheritable = ['CAP_KILL']; }), fakeHost(), opts);
    const capset = steps.find((s) => s.op === 'capset')!;
    assert.equal(capset.args[3], 1n << 5n);
  });

  test('exec joins every namespace of the container, the user namespace first and the mount namespace last', () => {
    const s = spec((x) => { x.linux!.namespaces!.push({ type: 'user' }); });
    const steps = buildExecPlan(fakeHost(), { initPid: 42, process: s.process!, spec: s, parentMode: 'wait' });
    const setns = steps.filter((x) => x.op === 'setns').map((x) => x.args[0]);
    assert.equal(setns[0], '/proc/42/ns/user');
    assert.equal(setns.at(-1), '/proc/42/ns/mnt');
    assert.deepEqual(new Set(setns), new Set(['/proc/42/ns/user', '/proc/42/ns/pid', '/proc/42/ns/net', '/proc/42/ns/ipc', '/proc/42/ns/uts', '/proc/42/ns/mnt']));
    assert.equal(steps.find((x) => x.op === 'clone')!.args[1], 'wait');
  });
});
