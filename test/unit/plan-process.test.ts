// Process steps of the create and exec plans: identity, limits, privileges, seccomp placement, exec.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capabilityMask } from '../../src/oci/capabilities.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { LinuxSeccomp, Spec } from '../../src/oci/runtime-spec.js';
import { buildCreatePlan, buildExecPlan, type CreatePlanOptions, type Step } from '../../src/runtime/plan/index.js';
import { DEFAULT_PATH, RLIM_INFINITY } from '../../src/runtime/plan/constants.js';
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
const find = (steps: Step[], op: string) => steps.find((s) => s.op === op)!;
const seccomp: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };

describe('create plan: the process', () => {
  test('user, groups, umask, cwd: capbset before the user switch under keepcaps, capset after', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.process!.user = { uid: 1000, gid: 100, additionalGids: [10, 20], umask: 0o077 };
      s.process!.cwd = '/home/u';
    }), fakeHost(), opts);
    assert.deepEqual(find(steps, 'user').args, [1000, 100, '10,20']);
    assert.deepEqual(find(steps, 'umask').args, [0o077]);
    assert.deepEqual(find(steps, 'chdir').args, ['/home/u']);
    const o = ops(steps);
    const at = (op: string) => o.indexOf(op);
    assert.ok(at('chdir') < at('capbset') && at('capbset') < at('keepcaps') && at('keepcaps') < at('user'));
    assert.deepEqual(steps.filter((s) => s.op === 'keepcaps').map((s) => s.args[0]), [1, 0]);
    assert.ok(o.lastIndexOf('keepcaps') < at('capset'));
  });

  test('the default umask is 0022', () => {
    assert.deepEqual(find(buildCreatePlan(spec(), fakeHost(), opts), 'umask').args, [0o022]);
  });

  test('capabilities: each set as a mask; ambient only where permitted and inheritable', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_KILL'],
        permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL', 'CAP_CHOWN'] };
    }), fakeHost(), opts);
    assert.deepEqual(find(steps, 'capbset').args, [(1n << 0n) | (1n << 5n) | (1n << 40n)]);
    assert.deepEqual(find(steps, 'capset').args, [1n << 5n, (1n << 5n) | 1n, 1n << 5n, 1n << 5n]);
  });

  test('rlimits (2^64-1 is RLIM_INFINITY), oom_score_adj, personality, I/O priority, scheduler', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 0, hard: 18446744073709551615 }, { type: 'RLIMIT_NPROC', soft: 10, hard: 20 }];
      s.process!.oomScoreAdj = -100;
      s.linux!.personality = { domain: 'LINUX32' };
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
      s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 5, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
    }), fakeHost(), opts);
    const rl = steps.filter((s) => s.op === 'rlimit');
    assert.deepEqual(rl.map((s) => s.args), [[4, 0n, RLIM_INFINITY], [6, 10n, 20n]]);
    assert.equal(rl[1].field, 'process.rlimits[1]');
    const oom = steps.find((s) => s.field === 'process.oomScoreAdj')!;
    assert.deepEqual([oom.op, ...oom.args], ['write', '/proc/self/oom_score_adj', '-100']);
    assert.deepEqual(find(steps, 'personality').args, [0x0008]);
    assert.deepEqual(find(steps, 'ioprio').args, [(2 << 13) | 4]);
    assert.deepEqual(find(steps, 'sched').args, [3, 0x01, 5, 0, 0, 0, 0]);
    const o = ops(steps);
    for (const op of ['rlimit', 'write', 'personality', 'ioprio', 'sched']) assert.ok(o.indexOf(op) < o.indexOf('capbset'), `${op} while privileged`);
  });

  test('hostname, domainname and sysctls are set after pivot_root', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.domainname = 'example.org';
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '4096' };
    }), fakeHost(), opts);
    const pivot = ops(steps).indexOf('pivot-root');
    assert.deepEqual(find(steps, 'hostname').args, ['runc']);
    assert.deepEqual(find(steps, 'domainname').args, ['example.org']);
    const sysctl = steps.filter((s) => s.field?.startsWith('linux.sysctl'));
    assert.deepEqual(sysctl.map((s) => s.args), [['/proc/sys/net/ipv4/ip_forward', '1'], ['/proc/sys/kernel/shmmax', '4096']]);
    assert.equal(sysctl[0].field, 'linux.sysctl["net.ipv4.ip_forward"]');
    assert.ok(steps.indexOf(find(steps, 'hostname')) > pivot && steps.indexOf(sysctl[0]) > pivot);
  });

  test('no_new_privs before the privilege drop; seccomp then loads last, after start and the startContainer hooks', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.linux!.seccomp = seccomp;
      s.hooks = { startContainer: [{ path: '/bin/h' }] };
    }), fakeHost(), opts);
    const o = ops(steps);
    assert.ok(o.indexOf('no-new-privs') < o.indexOf('capbset'));
    assert.deepEqual(o.slice(-7), ['ready', 'exec-wait', 'hook', 'seccomp-init', 'seccomp-rule', 'seccomp-load', 'exec']);
  });

  test('without no_new_privs, seccomp loads while CAP_SYS_ADMIN is still there: before the bounding set is dropped', () => {
    const o = ops(buildCreatePlan(spec((s) => { s.linux!.seccomp = seccomp; s.process!.noNewPrivileges = false; }), fakeHost(), opts));
    assert.ok(!o.includes('no-new-privs'));
    assert.ok(o.indexOf('seccomp-load') < o.indexOf('capbset'));
    assert.ok(o.indexOf('seccomp-init') > o.indexOf('pivot-root'));
  });

  test('a seccomp listener is connected before pivot_root, while its host path is reachable', () => {
    const steps = buildCreatePlan(spec((s) => { s.linux!.seccomp = { ...seccomp, listenerPath: '/run/l.sock' }; }), fakeHost(), opts);
    const o = ops(steps);
    assert.ok(o.indexOf('seccomp-connect') < o.indexOf('pivot-root'));
    assert.deepEqual(find(steps, 'seccomp-load').args, ['', '/run/l.sock', '@process-state']);
  });

  test('hooks: one sync point before pivot_root for prestart/createRuntime/createContainer; none without them', () => {
    for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
      const steps = buildCreatePlan(spec((s) => { s.hooks = { [kind]: [{ path: '/bin/h' }] }; }), fakeHost(), opts);
      const o = ops(steps);
      assert.deepEqual(find(steps, 'sync').args, ['hooks']);
      assert.ok(o.indexOf('sync') > o.lastIndexOf('mount-in') && o.indexOf('sync') < o.indexOf('pivot-root'), kind);
    }
    const o = ops(buildCreatePlan(spec((s) => { s.hooks = { poststart: [{ path: '/bin/h' }], poststop: [{ path: '/bin/h' }] }; }), fakeHost(), opts));
    assert.ok(!o.includes('sync') && !o.includes('hook'));
  });

  test('startContainer hooks: path, timeout, the state on stdin, args (default: the path) and env', () => {
    const steps = buildCreatePlan(spec((s) => {
      s.hooks = { startContainer: [{ path: '/bin/a' }, { path: '/bin/b', args: ['b', '-x'], env: ['A=1'], timeout: 5 }] };
    }), fakeHost(), opts);
    const hooks = steps.filter((s) => s.op === 'hook');
    assert.deepEqual(hooks.map((h) => h.args), [['/bin/a', 0, '@state', 1, '/bin/a', 0], ['/bin/b', 5, '@state', 2, 'b', '-x', 1, 'A=1']]);
    assert.deepEqual(hooks.map((h) => h.field), ['hooks.startContainer[0]', 'hooks.startContainer[1]']);
  });

  test('resolve-exec uses the last PATH of process.env, or the usual PATH', () => {
    const steps = buildCreatePlan(spec((s) => { s.process!.env = ['PATH=/a', 'X=1', 'PATH=/opt/bin']; s.process!.args = ['app', '-v']; }), fakeHost(), opts);
    assert.deepEqual(find(steps, 'resolve-exec').args, ['app', '/opt/bin']);
    assert.deepEqual(steps.at(-1)!.args, [2, 'app', '-v', 3, 'PATH=/a', 'X=1', 'PATH=/opt/bin']);
    const none = buildCreatePlan(spec((s) => { s.process!.env = []; }), fakeHost(), opts);
    assert.deepEqual(find(none, 'resolve-exec').args, ['sh', DEFAULT_PATH]);
  });

  test('--preserve-fds: fds below 3 + N stay open', () => {
    assert.deepEqual(find(buildCreatePlan(spec(), fakeHost(), { ...opts, preserveFds: 2 }), 'close-fds').args, [5]);
    assert.deepEqual(find(buildCreatePlan(spec(), fakeHost(), opts), 'close-fds').args, [3]);
  });

  test('session keyring _ses.<id> unless --no-new-keyring', () => {
    assert.deepEqual(find(buildCreatePlan(spec(), fakeHost(), opts), 'keyring').args, ['_ses.c1']);
    assert.ok(!ops(buildCreatePlan(spec(), fakeHost(), { ...opts, noNewKeyring: true })).includes('keyring'));
  });

  test('terminal: connect before pivot_root, the pty after it, no setsid of our own; size from consoleSize', () => {
    const steps = buildCreatePlan(spec((s) => { s.process!.terminal = true; s.process!.consoleSize = { height: 40, width: 120 }; }),
      fakeHost(), { ...opts, consoleSocket: '/tmp/c.sock' });
    const o = ops(steps);
    assert.ok(o.indexOf('console-connect') < o.indexOf('pivot-root') && o.indexOf('console') > o.indexOf('pivot-root'));
    assert.deepEqual(find(steps, 'console-connect').args, ['/tmp/c.sock']);
    assert.deepEqual(find(steps, 'console').args, [40, 120]);
    assert.ok(!o.includes('setsid'));
    assert.throws(() => buildCreatePlan(spec((s) => { s.process!.terminal = true; }), fakeHost(), opts), /console socket/);
    const proxied = buildCreatePlan(spec((s) => { s.process!.terminal = true; }), fakeHost(), { ...opts, parentMode: 'wait', consoleSocket: '' });
    assert.deepEqual(find(proxied, 'console-connect').args, ['']);
  });

  test('no exec fifo when create and start are one: no mkfifo, exec-fifo or exec-wait', () => {
    const o = ops(buildCreatePlan(spec(), fakeHost(), { ...opts, execFifo: undefined, parentMode: 'wait' }));
    assert.ok(!o.includes('mkfifo') && !o.includes('exec-fifo') && !o.includes('exec-wait'));
  });

  test('monitor mode: the monitor step first, before any namespace is joined; the monitor holds the terminal', () => {
    const monitor = {
      exe: '/x/skiff-init', logPath: '/l', logMaxSize: 100, logMaxFiles: 2, exitFile: '/e', attachSocket: '/a', stdin: true,
      oomFile: '/sys/fs/cgroup/memory/skiff/c1/memory.oom_control', exitOwner: '/o', exitCommand: ['/bin/cleanup', 'c1'], exitCommandEnv: ['PATH=/bin'],
    };
    const joined = spec((s) => { s.linux!.namespaces!.find((n) => n.type === 'network')!.path = '/run/netns/pod'; });
    const steps = buildCreatePlan(joined, fakeHost(), { ...opts, parentMode: 'monitor', monitor });
    assert.equal(steps[0].op, 'monitor');
    assert.deepEqual(steps[0].args, [
      '/x/skiff-init', '/l', 100, 2, '/e', '/a', 1, 0, '/sys/fs/cgroup/memory/skiff/c1/memory.oom_control', '/o', 2, '/bin/cleanup', 'c1', 1, 'PATH=/bin',
    ]);
    assert.ok(ops(steps).indexOf('setns') > 0);
    assert.deepEqual(find(steps, 'clone').args.slice(1), ['monitor']);
    const tty = buildCreatePlan(spec((s) => { s.process!.terminal = true; }), fakeHost(),
      { ...opts, parentMode: 'monitor', monitor: { ...monitor, exitCommand: [], exitCommandEnv: [] }, consoleSocket: '' });
    assert.deepEqual(tty[0].args.slice(6, 11), [1, 1, monitor.oomFile, '/o', 0]);
    assert.deepEqual(find(tty, 'console-connect').args, ['']);
    assert.throws(() => buildCreatePlan(spec(), fakeHost(), { ...opts, parentMode: 'monitor' }), /monitor/);
  });

  test('cgroup v2 device rules become a bpf-devices step in the parent; none on v1', () => {
    const v2 = buildCreatePlan(spec(), fakeHost({ cgroupMode: 'v2' }), opts);
    const bpf = find(v2, 'bpf-devices');
    assert.equal(bpf.args[0], '/sys/fs/cgroup/skiff/c1');
    assert.ok(v2.indexOf(bpf) < ops(v2).indexOf('clone'));
    assert.ok(!ops(buildCreatePlan(spec(), fakeHost(), opts)).includes('bpf-devices'));
  });

  test('every step that comes from config.json names its field; only the runtime\'s own steps have none', () => {
    const steps = buildCreatePlan(spec((s) => { s.linux!.seccomp = seccomp; }), fakeHost(), opts);
    const unnamed = new Set(steps.filter((s) => !s.field).map((s) => s.op));
    assert.deepEqual([...unnamed].sort(), ['close-fds', 'exec-fifo', 'exec-wait', 'keyring', 'mkfifo', 'ready', 'setsid']);
    for (const s of steps) if (s.op !== 'ready') assert.ok(s.what, `${s.op} says what it does`);
  });
});

describe('exec plan', () => {
  const container = spec((s) => {
    s.linux!.namespaces!.push({ type: 'user' }, { type: 'cgroup' });
    s.linux!.seccomp = seccomp;
  });
  const exec = (edit?: (p: NonNullable<Spec['process']>) => void, more: Partial<Parameters<typeof buildExecPlan>[1]> = {}) => {
    const proc = structuredClone(container.process!);
    edit?.(proc);
    return buildExecPlan(fakeHost(), { initPid: 42, process: proc, spec: container, parentMode: 'wait', ...more });
  };

  test('joins every namespace of the container, user first and mount last, then clones', () => {
    const steps = exec();
    const setns = steps.filter((x) => x.op === 'setns');
    assert.deepEqual(setns.map((x) => x.args[0]), ['/proc/42/ns/user', '/proc/42/ns/pid', '/proc/42/ns/net', '/proc/42/ns/ipc',
      '/proc/42/ns/uts', '/proc/42/ns/cgroup', '/proc/42/ns/mnt']);
    assert.equal(setns[0].field, 'linux.namespaces[5]');
    assert.deepEqual(find(steps, 'clone').args, [0, 'wait']);
    assert.ok(steps.indexOf(setns.at(-1)!) < ops(steps).indexOf('clone'));
  });

  test('no mounts, no pivot_root, no personality; the process steps as in create', () => {
    const o = ops(exec((p) => { p.user = { uid: 5, gid: 6, additionalGids: [7] }; }));
    for (const op of ['mount', 'mount-in', 'pivot-root', 'personality', 'mkfifo', 'exec-wait']) assert.ok(!o.includes(op), op);
    const steps = exec((p) => { p.user = { uid: 5, gid: 6, additionalGids: [7] }; });
    assert.deepEqual(find(steps, 'user').args, [5, 6, '7']);
    assert.deepEqual(o.slice(-5), ['ready', 'seccomp-init', 'seccomp-rule', 'seccomp-load', 'exec']);
  });

  test('terminal: a console socket is connected before the setns steps; without one, the waiting parent proxies it', () => {
    const withSocket = exec((p) => { p.terminal = true; }, { consoleSocket: '/tmp/c.sock' });
    const o = ops(withSocket);
    assert.ok(o.indexOf('console-connect') < o.indexOf('setns'));
    const proxied = exec((p) => { p.terminal = true; });
    assert.deepEqual(find(proxied, 'console-connect').args, ['']);
    assert.ok(ops(proxied).indexOf('console-connect') > ops(proxied).indexOf('clone'));
    assert.throws(() => exec((p) => { p.terminal = true; }, { parentMode: 'exit' }), /console socket/);
  });

  test('the session keyring is joined when the container id is given', () => {
    assert.ok(!ops(exec()).includes('keyring'));
    assert.deepEqual(find(exec(undefined, { containerId: 'c1' }), 'keyring').args, ['_ses.c1']);
    assert.ok(!ops(exec(undefined, { containerId: 'c1', noNewKeyring: true })).includes('keyring'));
  });

  test('capabilities of the exec process, not of the container', () => {
    const steps = exec((p) => { p.capabilities = { bounding: ['CAP_SYS_ADMIN'] }; });
    assert.deepEqual(find(steps, 'capbset').args, [capabilityMask(['CAP_SYS_ADMIN'])]);
  });
});
