// skiff run and signals, as docker run's --sig-proxy: a SIGTERM, SIGINT or SIGHUP to skiff (not to the container)
// goes on to the container's process; skiff waits for it, removes container, state and rootfs as on any exit, and
// exits with its status. A container that ignores the signal runs on; the next one goes on too. A signal before the
// container exists stops the run with nothing left behind. With -t, Ctrl-C reaches the container through its
// terminal, and our terminal is restored however the run ends (driven through script(1)'s pty).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistryProxy } from '../helpers/registry-proxy.js';
import { startRegistry } from '../helpers/registry.js';

const skiff = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-run-signals-'));
const root = join(dir, 'root');
const state = join(dir, 'state');
const skiffArgs = (...args: string[]) => [skiff, '--root', root, '--state', state, ...args];
// Names unique per test run, so a run left by a failed test never clashes with the next one.
const uniqueName = (what: string) => `sig-${what}-${randomBytes(3).toString('hex')}`;

after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stdout (or stderr) matches. */
  waitFor(pattern: RegExp, stream?: 'out' | 'err'): Promise<void>;
}

function start(args: string[], command = process.execPath, env = process.env): Run {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => waiters.forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => { out += d; poke(); });
  child.stderr!.on('data', (d: Buffer) => { err += d; poke(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => { poke(); resolve({ code, signal }); });
  });
  return {
    child, out: () => out, err: () => err, exited,
    waitFor: (pattern, stream = 'out') => new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(stream === 'out' ? out : err)) resolve();
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`exited before ${pattern}: ${out}${err}`));
      };
      waiters.push(check);
      check();
    }),
  };
}

const list = (path: string) => (existsSync(path) ? readdirSync(path) : []);

interface ContainerFacts {
  pid: number;
  cgroupsPath: string;
}

/** What skiff shows of a running container: its host pid and its cgroup (/skiff/ID). */
function containerFacts(name: string): ContainerFacts {
  const r = spawnSync(process.execPath, skiffArgs('inspect', '--type', 'container', name), { encoding: 'utf8' });
  const [info] = JSON.parse(r.stdout) as { Id: string; State: { Pid: number } }[];
  // A pid of 0 would make process.kill signal our own process group.
  assert.ok(info.State.Pid > 0, `${name} has a pid`);
  return { pid: info.State.Pid, cgroupsPath: `/skiff/${info.Id}` };
}

function assertNothingLeft(facts?: ContainerFacts): void {
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'no overlay left mounted');
  assert.deepEqual(list(join(root, 'containers')), [], 'no container data left');
  for (const d of ['runtime', 'netns', 'exits', 'attach']) assert.deepEqual(list(join(state, d)), [], `nothing left in state/${d}`);
  if (facts) {
    assert.ok(!existsSync(`/proc/${facts.pid}`) || readFileSync(`/proc/${facts.pid}/stat`, 'utf8').includes(') Z'), 'the container process is gone');
    // cgroup v1 (a pids hierarchy) or v2 (the unified one).
    assert.ok(!existsSync(join('/sys/fs/cgroup/pids', facts.cgroupsPath)) && !existsSync(join('/sys/fs/cgroup', facts.cgroupsPath)), 'its cgroup is gone');
  }
}

/** A shell that reports `signal` and exits with `code`; "ready" once the trap is set. */
const trapping = (signal: string, code: number) =>
  ['sh', '-c', `trap "echo got ${signal}; exit ${code}" ${signal}; echo ready; while :; do sleep 0.05; done`];

before(() => {
  // The default image made once, so the first timed run does not spend its time building it.
  const r = spawnSync(process.execPath, skiffArgs('run', '--rm', 'localhost/busybox', 'true'), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

describe('skiff run: signals', () => {
  test('SIGTERM, SIGINT and SIGHUP go to the container; skiff waits, removes everything and exits with its status', async () => {
    for (const [signal, code] of [['SIGTERM', 3], ['SIGINT', 4], ['SIGHUP', 5]] as const) {
      const name = uniqueName(signal.toLowerCase());
      const run = start(skiffArgs('run', '--rm', '--name', name, 'localhost/busybox', ...trapping(signal.slice(3), code)));
      await run.waitFor(/ready/);
      const facts = containerFacts(name);
      run.child.kill(signal);
      assert.deepEqual(await run.exited, { code, signal: null }, run.err());
      assert.equal(run.out(), `ready\ngot ${signal.slice(3)}\n`);
      assert.equal(run.err(), '');
      assertNothingLeft(facts);
    }
  });

  test('a container that ignores the signal runs on until it exits; the next signal is passed on again', async () => {
    // PID 1 of a PID namespace gets only the signals it handles (pid_namespaces(7)): sleep as PID 1 ignores SIGTERM.
    const ignoring = start(skiffArgs('run', '--rm', '--name', uniqueName('ignore'), 'localhost/busybox', 'sh', '-c', 'echo ready; exec sleep 1'));
    await ignoring.waitFor(/ready/);
    const sent = Date.now();
    ignoring.child.kill('SIGTERM');
    assert.deepEqual(await ignoring.exited, { code: 0, signal: null }, ignoring.err());
    assert.ok(Date.now() - sent > 500, 'it ran on to its end');
    assertNothingLeft();

    // A handler that counts: each SIGTERM and SIGINT is passed on, and skiff stays until the container is done.
    const name = uniqueName('count');
    const counting = start(skiffArgs('run', '--rm', '--name', name, 'localhost/busybox', 'sh', '-c',
      "n=0; trap 'n=$((n+1)); echo got $n' TERM INT; echo ready; while [ $n -lt 3 ]; do sleep 0.05; done; exit 9"));
    await counting.waitFor(/ready/);
    const facts = containerFacts(name);
    for (const [i, signal] of (['SIGTERM', 'SIGINT', 'SIGTERM'] as const).entries()) {
      counting.child.kill(signal);
      await counting.waitFor(new RegExp(`got ${i + 1}\\n`));
      if (i < 2) assert.equal(counting.child.exitCode, null, 'skiff still waits');
    }
    assert.deepEqual(await counting.exited, { code: 9, signal: null }, counting.err());
    assertNothingLeft(facts);
  });

  test('a container killed by a signal: skiff exits 128+N and removes everything', async () => {
    const name = uniqueName('killed');
    const run = start(skiffArgs('run', '--rm', '--name', name, 'localhost/busybox', 'sh', '-c', 'echo ready; exec sleep 100'));
    await run.waitFor(/ready/);
    const facts = containerFacts(name);
    process.kill(facts.pid, 'SIGKILL');
    assert.deepEqual(await run.exited, { code: 137, signal: null }, run.err());
    assertNothingLeft(facts);
  });

  test('a SIGINT at any moment of a run leaves nothing behind', async (t) => {
    const outcomes = new Map<string, number>();
    for (let delay = 0; delay <= 600; delay += 50) {
      const name = uniqueName('any');
      const run = start(skiffArgs('run', '--rm', '--name', name, 'localhost/busybox', 'sh', '-c',
        'trap "exit 7" INT; i=0; while [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done'));
      await new Promise((r) => setTimeout(r, delay));
      run.child.kill('SIGINT');
      const { code, signal } = await run.exited;
      // Killed by it before skiff caught signals; stopped before the container started (130, one line); passed on
      // before the shell's trap was set (ignored: 0) or after (7).
      const outcome = signal ?? String(code);
      assert.ok(['SIGINT', '130', '0', '7'].includes(outcome), `delay ${delay}: ${outcome}: ${run.err()}`);
      if (code === 130) assert.equal(run.err(), 'skiff: interrupted by SIGINT before the container started\n');
      else assert.equal(run.err(), '');
      assertNothingLeft();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });

  test('a signal during the pull of a missing image ends skiff at once, with one line', async (t) => {
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const proxy = await startRegistryProxy(registry.address);
    t.after(() => proxy.stop());
    const archive = join(dir, 'bb.tar');
    const save = spawnSync(process.execPath, skiffArgs('save', '-o', archive, 'localhost/busybox'), { encoding: 'utf8' });
    assert.equal(save.status, 0, save.stderr);
    // Copied into the registry itself: the proxy lives in this process, which spawnSync blocks.
    const copy = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${registry.address}/stalled:1`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    // Every blob stalls after its first bytes: the pull hangs where the signal is to come.
    const ref = `${proxy.address}/stalled:1`;
    proxy.rule = (req) => (req.method === 'GET' && req.path.includes('/blobs/') ? { stallAfter: 16 } : undefined);
    const fresh = join(dir, 'fresh-root');
    const run = start([skiff, '--root', fresh, '--state', state, 'run', '--rm', ref, 'true']);
    await run.waitFor(/downloading/, 'err');
    run.child.kill('SIGTERM');
    assert.deepEqual(await run.exited, { code: 143, signal: null });
    const lines = run.err().trim().split('\n');
    assert.equal(lines[0], `Unable to find image '${ref}' locally`);
    assert.equal(lines.at(-1), 'skiff: interrupted by SIGTERM before the container started');
    assert.deepEqual(list(join(fresh, 'containers')), []);
    assertNothingLeft();
    rmSync(archive);
  });
});

/** A shell command line with each word quoted for sh. */
const shellLine = (words: string[]) => words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');

/**
 * Runs the shell line `script` in a pty of script(1); `interact` may type into that terminal (our writes to
 * script's stdin) or signal. Returns the terminal's settings (stty -g) before and after, the exit status and what
 * was printed between.
 */
async function inTerminal(script: string, interact?: (run: Run) => Promise<void>): Promise<{ before: string; after: string; status: string; output: string }> {
  const wrapped = `stty -g; ${script}; echo "status=$?"; stty -g`;
  // script(1) runs the line with $SHELL, which stays in the pty's foreground group beside skiff and so gets the
  // Ctrl-C too. dash then dies of it once skiff exits; bash, seeing its child handle the SIGINT, carries on (the
  // "wait and cooperative exit" rule), as an interactive user's shell does. So bash, whatever SHELL says.
  const run = start(['-qec', wrapped, '/dev/null'], 'script', { ...process.env, SHELL: '/bin/bash' });
  await interact?.(run);
  const { code } = await run.exited;
  assert.equal(code, 0, run.out() + run.err());
  const lines = run.out().replace(/\r/g, '').trim().split('\n');
  const status = [...lines].reverse().find((l) => l.startsWith('status='))!;
  return { before: lines[0], after: lines.at(-1)!, status: status.slice(7), output: lines.slice(1, -2).join('\n') };
}

describe('skiff run -t: the terminal', () => {
  const skiffLine = (...args: string[]) => shellLine([process.execPath, ...skiffArgs(...args)]);

  test('Ctrl-C reaches the container through its terminal, and the terminal is restored', async () => {
    const r = await inTerminal(skiffLine('run', '--rm', '-t', '--name', uniqueName('tty'), 'localhost/busybox', ...trapping('INT', 4)), async (run) => {
      await run.waitFor(/ready/);
      run.child.stdin!.write('\x03');
    });
    assert.equal(r.status, '4', r.output);
    assert.match(r.output, /got INT/);
    assert.equal(r.after, r.before);
    assertNothingLeft();
  });

  test('the terminal is restored after a command that cannot be run and after a SIGTERM to skiff', async () => {
    const missing = await inTerminal(skiffLine('run', '--rm', '-t', 'localhost/busybox', 'nosuch'));
    assert.deepEqual([missing.status, missing.output], ['127', 'skiff: exec "nosuch": executable file not found in $PATH']);
    assert.equal(missing.after, missing.before);

    // sh -c 'echo $$ >FILE; exec skiff ...': skiff keeps the pid the file names, and the pty as its terminal.
    const pidFile = join(dir, 'skiff.pid');
    const line = `sh -c ${shellLine([`echo $$ > ${pidFile}; exec ${skiffLine('run', '--rm', '-t', '--name', uniqueName('term'), 'localhost/busybox', ...trapping('TERM', 6))}`])}`;
    const termed = await inTerminal(line, async (run) => {
      await run.waitFor(/ready/);
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    });
    assert.equal(termed.status, '6', termed.output);
    assert.match(termed.output, /got TERM/);
    assert.equal(termed.after, termed.before);
    assertNothingLeft();
  });
});
