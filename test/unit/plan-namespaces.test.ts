// Where the plans leave the runtime's namespaces: a mount namespace joined by path (joined in the child, once the
// host paths are open), and none at all (chroot instead of pivot_root, for create and exec). Pure: no root needed.
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
