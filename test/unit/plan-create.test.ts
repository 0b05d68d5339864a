// The launch plan is a pure function of (config.json, host facts): these tests read the steps, no root needed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { buildCreatePlan, buildExecPlan, type CreatePlanOptions, type Step } from '../../src/runtime/plan/index.js';
import { CLONE } from '../../src/common/linux-flags.js';
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

const ops = (steps: Step[]) => steps.map((s) => s.op);

describe('create plan: order and namespaces', () => {
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

  test('a child that joins its cgroup itself: the parent opens the tasks files first, the child joins first', () => {
    const tasks = ['/sys/fs/cgroup/pids/skiff/c1/tasks', '/sys/fs/cgroup/memory/skiff/c1/tasks'];
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'cgroup' }, { type: 'ipc', path: '/proc/1/ns/ipc' } as never);
    }), fakeHost(), { ...opts, cgroupSelfJoin: tasks });
    const o = ops(steps);
    assert.deepEqual(steps.filter((s) => s.op === 'cgroup-open').map((s) => [s.args[0], s.field]), tasks.map((t) => [t, 'linux.cgroupsPath']));
    assert.ok(o.lastIndexOf('cgroup-open') < o.indexOf('setns'), 'opened before any namespace is joined');
    const clone = o.indexOf('clone');
    assert.equal(o[clone + 1], 'cgroup-join');
    assert.equal(steps[clone + 2].args[0], CLONE.NEWCGROUP);
    assert.ok(!ops(buildCreatePlan(spec(), fakeHost(), opts)).some((op) => op.startsWith('cgroup-')));
  });

  test('exec: the tasks files opened before the container\'s namespaces are joined, the join right after clone', () => {
    const tasks = ['/sys/fs/cgroup/pids/skiff/c1/tasks'];
    const steps = buildExecPlan(fakeHost(), { initPid: 42, process: spec().process!, spec: spec(), parentMode: 'wait', cgroupSelfJoin: tasks });
    const o = ops(steps);
    assert.equal(o[0], 'cgroup-open');
    assert.ok(o.indexOf('cgroup-open') < o.indexOf('setns'));
    assert.equal(o[o.indexOf('clone') + 1], 'cgroup-join');
  });

  test('joined namespaces: setns before clone, the user namespace first, each with its CLONE_NEW* type and field', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.namespaces = [{ type: 'mount' }, { type: 'ipc', path: '/proc/7/ns/ipc' }, { type: 'network', path: '/run/netns/n' },
        { type: 'user', path: '/proc/7/ns/user' }, { type: 'pid' }, { type: 'uts' }];
    }), fakeHost(), opts);
    const setns = steps.filter((s) => s.op === 'setns');
    assert.deepEqual(setns.map((s) => [s.args[0], s.args[1], s.field]), [
      ['/proc/7/ns/user', CLONE.NEWUSER, 'linux.namespaces[3]'], ['/proc/7/ns/ipc', CLONE.NEWIPC, 'linux.namespaces[1]'],
      ['/run/netns/n', CLONE.NEWNET, 'linux.namespaces[2]']]);
    assert.equal(steps.find((s) => s.op === 'clone')!.args[0], CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS);
    assert.ok(!steps.some((s) => s.op === 'user' && s.field === 'linux.uidMappings'), 'a joined user namespace has its maps');
  });
});

/** The default spec without its mount namespace, and without what would need one. */
function withoutMountNamespace(s: Spec): void {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
  s.mounts = [];
  s.linux!.maskedPaths = [];
  s.linux!.readonlyPaths = [];
  s.root!.readonly = false;
}

describe('create plan: namespaces joined or inherited', () => {
  test('a joined mount namespace: the child joins it after opening the host paths, then mounts and pivots in it', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.process!.terminal = true;
      s.linux!.namespaces = [{ type: 'mount', path: '/run/mnt-ns' }, { type: 'user', path: '/proc/7/ns/user' }, { type: 'pid' },
        { type: 'network', path: '/run/netns/n' }];
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/listener.sock' };
    }), fakeHost(), { ...opts, consoleSocket: '/run/console.sock' });
    const o = ops(steps);
    const clone = o.indexOf('clone');
    const setns = steps.map((s, i) => ({ ...s, i })).filter((s) => s.op === 'setns');
    assert.deepEqual(setns.map((s) => [s.args[0], s.args[1], s.field]), [
      ['/proc/7/ns/user', CLONE.NEWUSER, 'linux.namespaces[1]'], ['/run/netns/n', CLONE.NEWNET, 'linux.namespaces[3]'],
      ['/run/mnt-ns', CLONE.NEWNS, 'linux.namespaces[0]']]);
    assert.ok(setns[0].i < clone && setns[1].i < clone, 'the other namespaces are joined before clone, the user one first');
    const mountJoin = setns[2].i;
    assert.ok(!((steps[clone].args[0] as number) & CLONE.NEWNS), 'no new mount namespace');
    for (const hostPath of ['exec-fifo', 'console-connect', 'seccomp-connect']) {
      assert.ok(clone < o.indexOf(hostPath) && o.indexOf(hostPath) < mountJoin, `${hostPath} before the join: ${o.join(' ')}`);
    }
    const rootBind = steps.findIndex((s) => s.field === 'root.path' && s.op === 'mount');
    assert.ok(mountJoin < o.indexOf('mount') && mountJoin < rootBind && rootBind < o.indexOf('pivot-root'));
    assert.ok(steps.slice(mountJoin).some((s) => s.op === 'mount-in' && s.args[3] === 'proc'), 'the mounts are made in it');
  });

  test('without a mount namespace the host paths are still opened first', () => {
    const steps = buildCreatePlan(spec((s) => {
      withoutMountNamespace(s);
    }), fakeHost(), opts);
    const o = ops(steps);
    assert.ok(!o.includes('setns'));
    assert.ok(o.indexOf('clone') < o.indexOf('exec-fifo') && o.indexOf('exec-fifo') < o.indexOf('chroot'));
  });
});

describe('create plan: a user namespace joined by path', () => {
  test('the child becomes its root, and mounts as in a new one: devices bound, not made', () => {
    const steps = buildCreatePlan(spec((s) => { s.linux!.namespaces!.push({ type: 'user', path: '/proc/7/ns/user' }); }), fakeHost(), opts);
    const clone = ops(steps).indexOf('clone');
    assert.deepEqual([steps[clone + 1].op, steps[clone + 1].args, steps[clone + 1].field], ['user', [0, 0, ''], 'linux.namespaces[5]']);
    assert.ok(!ops(steps).includes('mknod'));
    assert.ok(steps.some((s) => s.op === 'mount-in' && s.args[1] === '/dev/null' && s.args[2] === '/dev/null'));
  });
});

describe('exec plan: a container without a mount namespace', () => {
  test('the process is chrooted into the init\'s root, after the steps that use the runtime\'s /proc', () => {
    const container = spec(withoutMountNamespace);
    const proc = { ...container.process!, oomScoreAdj: 5 };
    const steps = buildExecPlan(fakeHost(), { initPid: 42, process: proc, spec: container, parentMode: 'wait' });
    const o = ops(steps);
    assert.ok(!steps.some((s) => s.op === 'setns' && s.args[1] === CLONE.NEWNS));
    const chroot = steps.findIndex((s) => s.op === 'chroot');
    assert.deepEqual(steps[chroot].args, ['/proc/42/root']);
    assert.ok(o.indexOf('clone') < chroot && steps.findIndex((s) => s.field === 'process.oomScoreAdj') < chroot);
    assert.ok(chroot < o.indexOf('close-fds') && chroot < o.indexOf('chdir') && chroot < o.indexOf('capset'));
    const withMount = buildExecPlan(fakeHost(), { initPid: 42, process: proc, spec: spec(), parentMode: 'wait' });
    assert.ok(!ops(withMount).includes('chroot'), 'joining the mount namespace is enough');
  });
});
