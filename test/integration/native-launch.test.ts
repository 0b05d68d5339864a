// The native helper on hand-built plans: namespaces, /proc, pivot_root, the protocol, errors as {step, errno},
// `wait` exit codes and signal forwarding, the exec fifo, plans without clone, and the pause mode.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, readlinkSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLONE } from '../../src/common/linux-flags.js';
import { step } from '../../src/native/step.js';
import { LaunchError } from '../../src/native/launcher.js';
import { nativeHelperPath } from '../../src/native/binary-path.js';
import { MS } from '../../src/common/linux-flags.js';
import { NativeScratch, alive, containerPlan, until } from './native-fixture.js';

let scratch: NativeScratch;
let rootfs: string;
before(() => {
  scratch = new NativeScratch();
  rootfs = scratch.rootfs();
});
after(() => scratch.cleanup());

describe('native helper: the container path', () => {
  test('new pid/uts/mount/ipc/net namespaces, /proc and pivot_root: the shell is PID 1 with its own hostname', async () => {
    const plan = containerPlan({
      rootfs,
      script: 'echo pid=$$; hostname; ls /; cat /proc/net/dev | grep -c : ; readlink /proc/1/ns/uts',
      afterPivot: [step('hostname', ['c-native'], 'hostname', 'set hostname c-native')],
    });
    let seenPid = 0;
    const r = await scratch.run({ plan, onPid: async (pid) => { seenPid = pid; return { state: '' }; } });
    assert.equal(r.exitCode, 0, r.out);
    const lines = r.out.trim().split('\n');
    assert.equal(lines[0], 'pid=1');
    assert.equal(lines[1], 'c-native');
    assert.ok(lines.includes('bin') && lines.includes('proc'), 'the root is the busybox rootfs');
    assert.equal(lines.at(-2), '1', 'only lo in the new network namespace');
    assert.notEqual(lines.at(-1), readlinkSync('/proc/self/ns/uts'));
    assert.equal(r.launched.pid, seenPid);
    assert.notEqual(r.launched.pid, r.launched.helperPid);
  });

  test('a failing step is reported with its index, errno and config field, and nothing is left running', async () => {
    const plan = containerPlan({
      rootfs, script: 'true',
      beforePivot: [step('mount-in', [rootfs, 'none', '/tmp', 'nosuchfs', 0, ''], 'mounts[3]', 'mount "nosuchfs" on /tmp')],
    });
    const index = plan.findIndex((s) => s.args[3] === 'nosuchfs');
    let pid = 0;
    const err = await scratch.launch({ plan, onPid: async (p) => { pid = p; return { state: '' }; } })
      .then(() => assert.fail('launch must fail'), (e: unknown) => e);
    assert.ok(err instanceof LaunchError, String(err));
    assert.equal(err.stepIndex, index);
    assert.equal(err.errnoName, 'ENODEV');
    assert.equal(err.step, plan[index]);
    assert.equal(err.message, 'mount "nosuchfs" on /tmp (mounts[3]): no such device');
    await until(() => !alive(pid));
  });

  test('bad plans: unknown op, wrong argument count, bad number', async () => {
    const cases: [string, ReturnType<typeof step>[], RegExp][] = [
      ['unknown op', [step('frobnicate', ['x'])], /frobnicate x: unknown op: invalid argument/],
      ['argument count', [step('umask', [])], /umask takes 1 arguments, got 0/],
      ['bad number', [step('unshare', ['twelve'])], /argument 0: bad number "twelve"/],
    ];
    for (const [name, plan, message] of cases) {
      const err = await scratch.launch({ plan: [...plan, step('ready')], stdio: ['ignore', 'ignore', 'ignore'] })
        .then(() => assert.fail(`${name}: launch must fail`), (e: unknown) => e);
      assert.ok(err instanceof LaunchError, String(err));
      assert.equal(err.stepIndex, 0, name);
      assert.equal(err.errnoName, 'EINVAL', name);
      assert.match(err.message, message, name);
    }
  });

  test('resolve-exec reports ENOENT, EACCES and ENOTDIR as execvp would', async () => {
    writeFileSync(join(rootfs, 'bin/not-exec'), '#!/bin/sh\n');
    chmodSync(join(rootfs, 'bin/not-exec'), 0o644);
    const cases: [string, string, string][] = [
      ['nosuchcommand', '/bin:/usr/bin', 'ENOENT'],
      ['not-exec', '/usr/bin:/bin', 'EACCES'],
      ['/bin/sh/x', '', 'ENOTDIR'],
      ['/etc', '', 'EACCES'],
    ];
    for (const [name, path, errnoName] of cases) {
      const plan = containerPlan({ rootfs, script: 'true' });
      const i = plan.findIndex((s) => s.op === 'resolve-exec');
      plan[i] = step('resolve-exec', [name, path], 'process.args[0]', `find ${name}`);
      const err = await scratch.launch({ plan, stdio: ['ignore', 'ignore', 'ignore'] })
        .then(() => assert.fail(`${name} must not resolve`), (e: unknown) => e);
      assert.ok(err instanceof LaunchError, String(err));
      assert.equal(err.stepIndex, i, name);
      assert.equal(err.errnoName, errnoName, name);
    }
  });

  test('a helper that dies without a word is reported as such', async () => {
    const plan = containerPlan({ rootfs, script: 'true', mode: 'exit' });
    const err = await scratch.launch({
      plan, stdio: ['ignore', 'ignore', 'ignore'],
      onPid: async (pid) => { process.kill(pid, 'SIGKILL'); return { state: '' }; },
    }).then(() => assert.fail('launch must fail'), (e: unknown) => e);
    assert.match(String(err), /native helper exited before the container was ready/);
  });

  test('wait mode: the exit code, 128+signal, and signals forwarded to the container', async () => {
    const seven = await scratch.run({ plan: containerPlan({ rootfs, script: 'exit 7' }) });
    assert.deepEqual([seven.exitCode, seven.signal], [7, undefined]);

    // Without a new pid namespace the shell is not an init, so default signal actions apply to it.
    const flags = CLONE.NEWNS | CLONE.NEWUTS;
    const killed = await scratch.launch({
      plan: containerPlan({ rootfs, flags, script: 'echo up > /tmp/up; sleep 1000' }), stdio: ['ignore', 'ignore', 'ignore'],
    });
    await until(() => existsSync(join(rootfs, 'tmp/up')));
    process.kill(killed.pid, 'SIGKILL');
    assert.deepEqual(await killed.exit, { status: 9, exitCode: 137, signal: 9 });

    // SIGTERM to the helper is forwarded; `exec sleep` so the signal reaches a process with default actions.
    const forwarded = await scratch.launch({
      plan: containerPlan({ rootfs, flags, script: 'exec sleep 1000' }),
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await until(() => readFileSync(`/proc/${forwarded.pid}/cmdline`, 'utf8') === 'sleep\x001000\x00');
    process.kill(forwarded.helperPid, 'SIGTERM');
    const exit = await forwarded.exit!;
    assert.equal(exit.exitCode, 143);
    assert.equal(exit.signal, 15);
    await until(() => !alive(forwarded.helperPid));
  });

  test('the protocol: the state from onPid reaches a `hook @state`, and onSync runs at the sync step', async () => {
    const syncs: string[] = [];
    const state = JSON.stringify({ ociVersion: '1.2.0', id: 'n1', status: 'creating', note: 'state ünicode' });
    const plan = containerPlan({
      rootfs, script: 'cat /tmp/state',
      beforePivot: [step('sync', ['hooks'], 'hooks', 'run hooks')],
      afterPivot: [step('hook', ['/bin/sh', 0, '@state', 3, 'sh', '-c', 'cat > /tmp/state', 0], 'hooks.startContainer[0]', 'run hook')],
    });
    const r = await scratch.run({
      plan,
      onPid: async () => ({ state }),
      onSync: async (name) => { syncs.push(name); },
    });
    assert.equal(r.exitCode, 0, r.out);
    assert.equal(r.out, state);
    assert.deepEqual(syncs, ['hooks']);
  });

  test('a failing hook and a hook that overstays its timeout are errors of their step', async () => {
    for (const [script, timeout, message] of [['exit 3', 0, /exit status 3/], ['sleep 100', 1, /timed out after 1s/]] as const) {
      const plan = containerPlan({
        rootfs, script: 'true',
        afterPivot: [step('hook', ['/bin/sh', timeout, '', 3, 'sh', '-c', script, 0], 'hooks.startContainer[0]', 'run hook')],
      });
      const i = plan.findIndex((s) => s.op === 'hook');
      const err = await scratch.launch({ plan, stdio: ['ignore', 'ignore', 'ignore'] })
        .then(() => assert.fail('launch must fail'), (e: unknown) => e);
      assert.ok(err instanceof LaunchError, String(err));
      assert.equal(err.stepIndex, i);
      assert.match(err.message, message);
      assert.match(err.message, /\(hooks\.startContainer\[0\]\)/);
    }
  });

  test('exec fifo: the container waits until `start` writes into the fifo, which fails once nobody holds it', async () => {
    const fifo = scratch.path('exec.fifo');
    const plan = containerPlan({
      rootfs, mode: 'exit', script: 'echo ran > /tmp/ran',
      parent: [step('mkfifo', [fifo, 0o622], undefined, 'create the exec fifo')],
      beforePivot: [step('exec-fifo', [fifo], undefined, 'open the exec fifo')],
      afterReady: [step('exec-wait', [], undefined, 'wait for start')],
    });
    const launched = await scratch.launch({ plan, stdio: ['ignore', 'ignore', 'ignore'] });
    assert.match(readlinkSync(`/proc/${launched.pid}/exe`), /^\/memfd:skiff-init/, 'still the helper, not the shell');
    assert.ok(!existsSync(join(rootfs, 'tmp/ran')));
    // What `start` does: fifo(7), a non-blocking open for writing succeeds while a process holds the fifo open.
    const start = () => {
      const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, '0');
      closeSync(fd);
    };
    start();
    await until(() => existsSync(join(rootfs, 'tmp/ran')));
    assert.equal(readFileSync(join(rootfs, 'tmp/ran'), 'utf8'), 'ran\n');
    assert.throws(start, { code: 'ENXIO' }, 'the process has exec\'d: no one holds the fifo');
  });

  test('a plan without clone runs in the helper, which exits 0 at its end', async () => {
    const file = scratch.path('written');
    writeFileSync(file, '');
    const launched = await scratch.launch({ plan: [step('write', [file, 'hello']), step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });
    assert.equal(launched.pid, 0);
    await until(() => !alive(launched.helperPid));
    assert.equal(readFileSync(file, 'utf8'), 'hello');
  });

  test('rlimit, umask, chdir and the environment are what the plan says', async () => {
    const r = await scratch.run({
      plan: containerPlan({
        rootfs, script: 'ulimit -n; ulimit -Hn; ulimit -c; umask; pwd; echo $GREETING',
        env: ['PATH=/bin', 'GREETING=hi'],
        afterPivot: [
          step('rlimit', [7, 1024, 2048], 'process.rlimits[0]'),
          step('rlimit', [4, 18446744073709551615n, 18446744073709551615n], 'process.rlimits[1]'),
          step('umask', [0o027]),
          step('chdir', ['/tmp'], 'process.cwd'),
        ],
      }),
    });
    assert.equal(r.exitCode, 0, r.out);
    assert.deepEqual(r.out.trim().split('\n'), ['1024', '2048', 'unlimited', '0027', '/tmp', 'hi']);
  });
});

describe('native helper: pause mode', () => {
  test('PID 1 of a pid namespace reaps orphans and exits 0 on SIGTERM', async () => {
    // unshare(1) makes the pid namespace and forks; its child execs the pause process as that namespace's init.
    const outer = spawn('unshare', ['--pid', '--fork', nativeHelperPath(), 'pause'], { stdio: 'ignore' });
    scratch.track(outer.pid!);
    const closed = new Promise<number | null>((r) => outer.on('close', (code) => r(code)));
    const childrenOf = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    await until(() => childrenOf(outer.pid!).length === 1);
    const pause = childrenOf(outer.pid!)[0];
    scratch.track(pause);
    await until(() => readlinkSync(`/proc/${pause}/exe`).startsWith('/memfd:skiff-init'));

    // An orphan in the namespace: nsenter's shell backgrounds a sleep and exits, so the sleep's parent is pause.
    const r = spawn('nsenter', ['-t', String(pause), '-p', '--', '/bin/busybox', 'sh', '-c', 'sleep 0.3 & exit 0'], { stdio: 'ignore' });
    await new Promise((res) => r.on('close', res));
    await until(() => childrenOf(pause).length === 1);
    const orphan = childrenOf(pause)[0];
    await until(() => !existsSync(`/proc/${orphan}`));

    process.kill(pause, 'SIGTERM');
    assert.equal(await closed, 0);
  });

  test('a bad mode is a usage error', async () => {
    const r = spawn(nativeHelperPath(), ['nosuchmode'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    r.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const code = await new Promise((res) => r.on('close', res));
    assert.equal(code, 2);
    assert.match(err, /usage: skiff-init init CHANNEL_FD \| skiff-init pause/);
  });
});

describe('native helper: mounts', () => {
  test('mkdir-in, touch-in, readonly, mask and symlink act inside the new root', async () => {
    const r = await scratch.run({
      plan: containerPlan({
        rootfs,
        script: 'ls -d /deep/a/b; ls /etc/bound; touch /usr/x 2>/dev/null && echo writable || echo read-only; '
          + 'cat /etc/hostname; readlink /mylink; grep -c " /sys tmpfs ro" /proc/mounts',
        beforePivot: [
          step('mkdir-in', [rootfs, '/deep/a/b', 0o755]),
          step('touch-in', [rootfs, '/etc/bound', 0o644]),
          step('mount-in', [rootfs, '/etc/hosts', '/etc/bound', '', MS.BIND, '']),
          // A masked file is covered by /dev/null, so the new root needs one.
          step('touch-in', [rootfs, '/dev/null', 0o666]),
          step('mount-in', [rootfs, '/dev/null', '/dev/null', '', MS.BIND, '']),
        ],
        afterPivot: [
          step('readonly', ['/usr']),
          step('mask', ['/etc/hostname']),
          step('mask', ['/sys']),
          step('mask', ['/no/such/path']),
          step('readonly', ['/no/such/path']),
          step('symlink', ['/proc/self/fd', '/mylink']),
          step('symlink', ['/proc/self/fd', '/mylink']),
        ],
      }),
    });
    assert.equal(r.exitCode, 0, r.out);
    assert.deepEqual(r.out.trim().split('\n'), ['/deep/a/b', '/etc/bound', 'read-only', '/proc/self/fd', '1']);
  });
});
