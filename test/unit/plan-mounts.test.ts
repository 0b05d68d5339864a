// Mount steps of the create plan: every kind of mount and option, /dev, propagation of /, cgroup mounts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { CLONE, MS } from '../../src/common/linux-flags.js';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { buildCreatePlan, type CreatePlanOptions, type Step } from '../../src/runtime/plan/index.js';
import { fakeHost } from './fake-host.js';

const opts: CreatePlanOptions = {
  containerId: 'c1', bundle: '/b', rootfs: '/b/rootfs', cgroupsPath: '/skiff/c1', parentMode: 'exit',
  execFifo: '/run/x/c1/exec.fifo', bindSourceKinds: {},
};
const S_IFCHR = 0o020000;

function spec(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  edit?.(s);
  return s;
}

const ops = (steps: Step[]) => steps.map((s) => s.op);
const of = (steps: Step[], field: string) => steps.filter((s) => s.field === field);
const index = (steps: Step[], op: string, from = 0) => steps.findIndex((s, i) => i >= from && s.op === op);

describe('create plan: mounts', () => {
  test('filesystems: mkdir in the rootfs, then mount with flags and the remaining options as data', () => {
    const steps = buildCreatePlan(spec(), fakeHost(), opts);
    const dev = of(steps, 'mounts[1]');
    assert.deepEqual(ops(dev), ['mkdir-in', 'mount-in']);
    assert.deepEqual(dev[0].args, ['/b/rootfs', '/dev', 0o755]);
    assert.deepEqual(dev[1].args, ['/b/rootfs', 'tmpfs', '/dev', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k']);
    const pts = of(steps, 'mounts[2]')[1];
    assert.deepEqual(pts.args, ['/b/rootfs', 'devpts', '/dev/pts', 'devpts', MS.NOSUID | MS.NOEXEC,
      'newinstance,ptmxmode=0666,mode=0620,gid=5']);
    const sys = of(steps, 'mounts[5]')[1];
    assert.equal(sys.args[4], MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY);
    assert.equal(sys.what, 'mount "sysfs" on /sys');
  });

  test('every flag option is a flag, every propagation option its own step, in order', () => {
    const options = ['rw', 'ro', 'suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec', 'sync', 'dirsync', 'mand', 'noatime',
      'nodiratime', 'relatime', 'strictatime', 'lazytime', 'silent', 'nosymfollow', 'private', 'rslave', 'size=1m'];
    const steps = buildCreatePlan(spec((s) => { s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options }); }), fakeHost(), opts);
    const t = of(steps, 'mounts[7]');
    assert.deepEqual(ops(t), ['mkdir-in', 'mount-in', 'mount-in', 'mount-in']);
    assert.equal(t[1].args[4], MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.SYNCHRONOUS | MS.DIRSYNC | MS.MANDLOCK
      | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.LAZYTIME | MS.SILENT | MS.NOSYMFOLLOW);
    assert.equal(t[1].args[5], 'size=1m');
    assert.deepEqual(t[2].args, ['/b/rootfs', '', '/t', '', MS.PRIVATE, '']);
    assert.deepEqual(t[3].args, ['/b/rootfs', '', '/t', '', MS.SLAVE | MS.REC, '']);
  });

  test('bind: non-recursive unless rbind; ro and friends need a remount; type "bind" alone binds', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.mounts!.push(
        { destination: '/a', source: '/srv/a', options: ['bind'] },
        { destination: '/b', source: '/srv/b', options: ['rbind', 'ro', 'nodev', 'noexec'] },
        { destination: '/c', type: 'bind', source: '/srv/c' },
      );
    }), fakeHost(), { ...opts, bindSourceKinds: { '/srv/a': 'dir', '/srv/b': 'dir', '/srv/c': 'file' } });
    assert.deepEqual(of(steps, 'mounts[7]').map((s) => s.args), [['/b/rootfs', '/a', 0o755], ['/b/rootfs', '/srv/a', '/a', '', MS.BIND, '']]);
    const b = of(steps, 'mounts[8]');
    assert.deepEqual(ops(b), ['mkdir-in', 'mount-in', 'mount-in']);
    assert.equal(b[1].args[4], MS.BIND | MS.REC);
    assert.deepEqual(b[2].args, ['/b/rootfs', '', '/b', '', MS.RDONLY | MS.NODEV | MS.NOEXEC | MS.BIND | MS.REMOUNT, '']);
    const c = of(steps, 'mounts[9]');
    assert.deepEqual(ops(c), ['touch-in', 'mount-in']);
    assert.deepEqual(c[1].args, ['/b/rootfs', '/srv/c', '/c', '', MS.BIND, '']);
  });

  test('a relative bind source is inside the bundle', () => {
    const steps = buildCreatePlan(spec((s) => { s.mounts!.push({ destination: '/cfg', source: 'conf', options: ['rbind'] }); }),
      fakeHost(), { ...opts, bindSourceKinds: { conf: 'dir' } });
    assert.equal(of(steps, 'mounts[7]')[1].args[1], '/b/conf');
  });

  test('a bind source statBindSources did not look at is a programming error, not a guess', () => {
    assert.throws(() => buildCreatePlan(spec((s) => { s.mounts!.push({ destination: '/x', source: '/srv/x', options: ['bind'] }); }), fakeHost(), opts),
      /mounts\[7\]\.source/);
  });

  test('/ becomes rslave, then the rootfs is bound onto itself, before any mount', () => {
    const steps = buildCreatePlan(spec(), fakeHost(), opts);
    const first = index(steps, 'mount');
    assert.deepEqual(steps[first].args, ['', '/', '', MS.SLAVE | MS.REC, '']);
    assert.deepEqual(steps[first + 1].args, ['/b/rootfs', '/b/rootfs', '', MS.BIND | MS.REC, '']);
    assert.ok(first + 1 < index(steps, 'mount-in'));
    assert.ok(!steps.slice(index(steps, 'pivot-root')).some((s) => s.field === 'linux.rootfsPropagation'),
      'without rootfsPropagation the new / keeps what it has');
  });

  test('rootfsPropagation: each of the eight values, before pivot_root, on the mount holding the rootfs, and after', () => {
    const prop = (value: NonNullable<Spec['linux']>['rootfsPropagation']) => {
      const steps = buildCreatePlan(spec((x) => { x.linux!.rootfsPropagation = value; }), fakeHost(), opts);
      const rootBind = steps.findIndex((x) => x.field === 'root.path' && x.op === 'mount');
      const pivot = index(steps, 'pivot-root');
      const at = (x: Step) => {
        const i = steps.indexOf(x);
        return i < rootBind ? 'before' : i < pivot ? 'mounts' : 'after';
      };
      return of(steps, 'linux.rootfsPropagation').map((x) => [at(x), x.op, x.args[0] === '' ? x.args[1] : x.args[0], x.op === 'mount' ? x.args[3] : x.args[1]]);
    };
    // The holder is made private (slave for a slave root) unless / was already made so recursively; shared is applied
    // again to the new /, and unbindable only last: / stays bindable (private) while the mounts bind from it.
    assert.deepEqual(prop('private'), [['before', 'mount', '/', MS.PRIVATE], ['before', 'holder-propagation', '/b/rootfs', MS.PRIVATE]]);
    assert.deepEqual(prop('rprivate'), [['before', 'mount', '/', MS.PRIVATE | MS.REC]]);
    assert.deepEqual(prop('slave'), [['before', 'mount', '/', MS.SLAVE], ['before', 'holder-propagation', '/b/rootfs', MS.SLAVE]]);
    assert.deepEqual(prop('rslave'), [['before', 'mount', '/', MS.SLAVE | MS.REC]]);
    assert.deepEqual(prop('shared'), [['before', 'mount', '/', MS.SHARED], ['before', 'holder-propagation', '/b/rootfs', MS.PRIVATE],
      ['after', 'mount', '/', MS.SHARED]]);
    assert.deepEqual(prop('rshared'), [['before', 'mount', '/', MS.SHARED | MS.REC], ['before', 'holder-propagation', '/b/rootfs', MS.PRIVATE],
      ['after', 'mount', '/', MS.SHARED | MS.REC]]);
    assert.deepEqual(prop('unbindable'), [['before', 'mount', '/', MS.PRIVATE], ['before', 'holder-propagation', '/b/rootfs', MS.PRIVATE],
      ['after', 'mount', '/', MS.UNBINDABLE]]);
    assert.deepEqual(prop('runbindable'), [['before', 'mount', '/', MS.PRIVATE | MS.REC], ['after', 'mount', '/', MS.UNBINDABLE | MS.REC]]);
  });

  test('unbindable comes after the masks and read-only paths, which bind from the container\'s mounts', () => {
    const steps = buildCreatePlan(spec((x) => {
      x.linux!.rootfsPropagation = 'runbindable';
      x.mounts![1].options!.push('unbindable');
    }), fakeHost(), opts);
    const lastBind = Math.max(...steps.map((x, i) => (x.op === 'mask' || x.op === 'readonly' ? i : -1)));
    const devUnbindable = steps.findIndex((x) => x.field === 'mounts[1]' && x.args[4] === MS.UNBINDABLE);
    assert.deepEqual(steps[devUnbindable].args, ['/', '', '/dev', '', MS.UNBINDABLE, '']);
    const rootUnbindable = steps.findIndex((x) => x.field === 'linux.rootfsPropagation' && x.args[3] === (MS.UNBINDABLE | MS.REC));
    assert.ok(lastBind < devUnbindable && devUnbindable < rootUnbindable, ops(steps).join(' '));
    assert.ok(rootUnbindable < index(steps, 'umask'));
    assert.ok(!steps.slice(0, lastBind).some((x) => x.args.includes(MS.UNBINDABLE) || x.args.includes(MS.UNBINDABLE | MS.REC)));
  });

  test('/dev: default devices by mknod after pivot_root, linux.devices added or replacing, symlinks', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 },
        { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o660 }];
    }), fakeHost(), opts);
    const pivot = index(steps, 'pivot-root');
    const nodes = steps.filter((s) => s.op === 'mknod');
    assert.ok(steps.indexOf(nodes[0]) > pivot);
    assert.deepEqual(nodes.map((n) => n.args[0]),
      ['/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/fuse', '/dev/null']);
    assert.deepEqual(nodes[5].args, ['/dev/fuse', S_IFCHR | 0o600, 10, 229, 0, 0]);
    assert.equal(nodes[6].field, 'linux.devices[1]');
    assert.equal(nodes[6].args[1], S_IFCHR | 0o660);
    assert.deepEqual(steps.filter((s) => s.op === 'symlink').map((s) => s.args), [
      ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'], ['pts/ptmx', '/dev/ptmx']]);
  });

  test('a read-only /dev is mounted writable, filled, then remounted read-only', () => {
    const steps = buildCreatePlan(spec((s) => { s.mounts![1].options!.push('ro'); }), fakeHost(), opts);
    const dev = of(steps, 'mounts[1]');
    assert.equal((dev[1].args[4] as number) & MS.RDONLY, 0);
    assert.deepEqual(dev[2].args, ['', '/dev', '', MS.NOSUID | MS.STRICTATIME | MS.RDONLY | MS.REMOUNT, 'mode=755,size=65536k']);
    assert.ok(steps.indexOf(dev[2]) > steps.lastIndexOf(steps.filter((s) => s.op === 'mknod').at(-1)!));
  });

  test('a bind of the host /dev leaves /dev alone: no nodes, no symlinks', () => {
    const steps = buildCreatePlan(spec((s) => { s.mounts![1] = { destination: '/dev', source: '/dev', options: ['rbind'] }; }), fakeHost(),
      { ...opts, bindSourceKinds: { '/dev': 'dir' } });
    assert.ok(!ops(steps).includes('mknod') && !ops(steps).includes('symlink'));
  });

  test('/dev/shm, /dev/mqueue are ordinary mounts of their types', () => {
    const steps = buildCreatePlan(spec(), fakeHost(), opts);
    assert.deepEqual(of(steps, 'mounts[3]')[1].args, ['/b/rootfs', 'shm', '/dev/shm', 'tmpfs', MS.NOSUID | MS.NOEXEC | MS.NODEV, 'mode=1777,size=65536k']);
    assert.deepEqual(of(steps, 'mounts[4]')[1].args, ['/b/rootfs', 'mqueue', '/dev/mqueue', 'mqueue', MS.NOSUID | MS.NOEXEC | MS.NODEV, '']);
  });

  test('cgroup mount: cgroup2 on v2; on v1 a tmpfs of read-only binds of the container\'s own cgroups', () => {
    const v2 = of(buildCreatePlan(spec(), fakeHost({ cgroupMode: 'v2' }), opts), 'mounts[6]');
    assert.deepEqual(v2[1].args, ['/b/rootfs', 'cgroup', '/sys/fs/cgroup', 'cgroup2', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY, '']);
    const v1 = of(buildCreatePlan(spec(), fakeHost(), opts), 'mounts[6]');
    assert.equal(v1[1].args[3], 'tmpfs');
    const binds = v1.filter((s) => s.op === 'mount-in' && s.args[4] === MS.BIND);
    assert.deepEqual(binds.map((s) => [s.args[1], s.args[2]]), [
      ['/sys/fs/cgroup/cpu/skiff/c1', '/sys/fs/cgroup/cpu'], ['/sys/fs/cgroup/memory/skiff/c1', '/sys/fs/cgroup/memory'],
      ['/sys/fs/cgroup/pids/skiff/c1', '/sys/fs/cgroup/pids']]);
    assert.equal((v1.at(-1)!.args[4] as number) & MS.RDONLY, MS.RDONLY);
  });

  test('user namespace: host devices are bound before pivot_root instead of mknod', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }), fakeHost(), opts);
    assert.ok(!ops(steps).includes('mknod'));
    const null_ = steps.filter((s) => s.field === 'linux.devices' && s.what!.endsWith('/dev/null'));
    assert.deepEqual(null_.map((s) => s.op), ['touch-in', 'mount-in']);
    assert.deepEqual(null_[1].args, ['/b/rootfs', '/dev/null', '/dev/null', '', MS.BIND, '']);
    assert.ok(steps.indexOf(null_[1]) < index(steps, 'pivot-root'));
  });

  test('user namespace: a bind\'s remount keeps the flags the kernel locked on its source (mount_namespaces(7))', () => {
    const userns = (s: Spec) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.mounts!.push({ destination: '/a', source: '/srv/a', options: ['rbind', 'ro'] }, { destination: '/b', source: '/srv/b', options: ['bind', 'ro', 'strictatime'] });
    };
    const kinds = { '/srv/a': 'dir' as const, '/srv/b': 'dir' as const };
    const source = MS.NOSUID | MS.NODEV | MS.NOATIME;
    const steps = buildCreatePlan(spec(userns), fakeHost(), { ...opts, bindSourceKinds: kinds, bindSourceFlags: { '/srv/a': source, '/srv/b': source } });
    assert.equal(of(steps, 'mounts[7]')[2].args[4], MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOATIME | MS.BIND | MS.REMOUNT);
    assert.equal(of(steps, 'mounts[8]')[2].args[4], MS.RDONLY | MS.STRICTATIME | MS.NOSUID | MS.NODEV | MS.BIND | MS.REMOUNT,
      'an atime flag the config names replaces the source\'s');
    const root = buildCreatePlan(spec((s) => s.mounts!.push({ destination: '/a', source: '/srv/a', options: ['rbind', 'ro'] })), fakeHost(),
      { ...opts, bindSourceKinds: kinds, bindSourceFlags: { '/srv/a': source } });
    assert.equal(of(root, 'mounts[7]')[2].args[4], MS.RDONLY | MS.BIND | MS.REMOUNT, 'without a user namespace the config\'s flags are exact');
  });

  test('masked and read-only paths after pivot_root, read-only first (as runc), each with its field', () => {
    const steps = buildCreatePlan(spec(), fakeHost(), opts);
    const ro = steps.filter((s) => s.op === 'readonly');
    const masks = steps.filter((s) => s.op === 'mask');
    assert.equal(masks.length, 10);
    assert.deepEqual(masks[2].args, ['/proc/kcore']);
    assert.equal(masks[2].field, 'linux.maskedPaths[2]');
    assert.equal(ro[4].field, 'linux.readonlyPaths[4]');
    assert.ok(index(steps, 'pivot-root') < steps.indexOf(ro[0]) && steps.indexOf(ro.at(-1)!) < steps.indexOf(masks[0]));
  });

  test('root.readonly: a read-only remount of / after pivot_root and the console', () => {
    const steps = buildCreatePlan(spec((s) => { s.process!.terminal = true; }), fakeHost(), { ...opts, consoleSocket: '/tmp/c.sock' });
    const ro = steps.findIndex((s) => s.field === 'root.readonly');
    assert.deepEqual(steps[ro].args, ['', '/', '', MS.REMOUNT | MS.BIND | MS.RDONLY, '']);
    assert.ok(ro > index(steps, 'console'));
    const rw = buildCreatePlan(spec((s) => { s.root!.readonly = false; }), fakeHost(), opts);
    assert.ok(!rw.some((s) => s.field === 'root.readonly'));
  });

  test('without a mount namespace nothing is mounted; chroot, after the steps that use the runtime\'s /proc and /dev', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
      s.mounts = [];
      s.linux!.maskedPaths = [];
      s.linux!.readonlyPaths = [];
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      s.process!.oomScoreAdj = 10;
      s.process!.terminal = true;
    }), fakeHost(), { ...opts, consoleSocket: '/tmp/c.sock' });
    assert.ok(!steps.some((s) => ['mount', 'mount-in', 'holder-propagation', 'pivot-root', 'move-root', 'mknod'].includes(s.op)));
    assert.ok(!((steps.find((s) => s.op === 'clone')!.args[0] as number) & CLONE.NEWNS));
    const chroot = steps.find((s) => s.op === 'chroot')!;
    assert.deepEqual([chroot.args, chroot.field], [['/b/rootfs'], 'root.path']);
    const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
    for (const before of [at((s) => s.op === 'console'), at((s) => s.field === 'linux.sysctl["net.ipv4.ip_forward"]'),
      at((s) => s.field === 'process.oomScoreAdj'), at((s) => s.op === 'exec-fifo')]) {
      assert.ok(before >= 0 && before < steps.indexOf(chroot), ops(steps).join(' '));
    }
    for (const after of ['close-fds', 'chdir', 'capbset', 'resolve-exec', 'exec-wait']) {
      assert.ok(index(steps, after) > steps.indexOf(chroot), `${after} after chroot: ${ops(steps).join(' ')}`);
    }
  });

  test('--no-pivot: move-root (MS_MOVE and chroot) instead of pivot_root, at the same place', () => {
    const steps = buildCreatePlan(spec(), fakeHost(), { ...opts, noPivot: true });
    assert.ok(!ops(steps).includes('pivot-root'));
    const chroot = steps.find((s) => s.op === 'move-root')!;
    assert.deepEqual(chroot.args, ['/b/rootfs']);
    assert.equal(chroot.field, 'root.path');
    assert.ok(steps.indexOf(chroot) < index(steps, 'mknod'));
  });
});
