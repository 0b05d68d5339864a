// The helper zygote (src/native/zygote.ts): launches whose stdio it can give go through it and behave as spawned
// ones do (plans, errors, sessions); the others, and every launch once the zygote is gone, are spawned directly.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, LaunchError } from '../../src/native/launcher.js';
import { step, type Step } from '../../src/native/step.js';
import { runProgram } from '../../src/native/program.js';
import { HelperZygote, useZygote, useZygoteWhenNeeded } from '../../src/native/zygote.js';
import { alive, until } from './native-fixture.js';

let dir: string;
let zygote: HelperZygote;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-zygote-'));
  zygote = (await HelperZygote.start(join(dir, 'helpers.sock')))!;
  useZygote(zygote);
});
after(async () => {
  useZygote(undefined);
  await zygote.close();
  rmSync(dir, { recursive: true, force: true });
});

/** /proc/PID/stat: [ppid, session]. */
function parentAndSession(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[1]), Number(fields[3])];
}

/** A helper that clones a child, reports where both are (in onPid, while the parent waits), and lets it exit. */
async function whereIsHelper(opts: { detached?: boolean; stdio?: ['ignore' | 'pipe', 'ignore', 'ignore'] } = {}): Promise<{ parent: number; session: number; helper: number }> {
  let seen = { parent: 0, session: 0, helper: 0 };
  const plan: Step[] = [step('clone', [0, 'wait']), step('ready')];
  const launched = await launch({
    plan, stdio: opts.stdio ?? ['ignore', 'ignore', 'ignore'], detached: opts.detached,
    onPid: async (_pid, helper) => {
      const [parent, session] = parentAndSession(helper);
      seen = { parent, session, helper };
      return { state: '' };
    },
  });
  assert.equal((await launched.exit!).exitCode, 0);
  return seen;
}

describe('helper zygote', () => {
  test('a launch with its stdio on /dev/null is forked by the zygote, runs its plan and reports its exit', async () => {
    await launch({ plan: [step('mkdir-in', [dir, '/made/here', 0o755]), step('ready')], stdio: ['ignore', 'ignore', 'ignore'] });
    assert.ok(existsSync(join(dir, 'made/here')));
    const where = await whereIsHelper();
    assert.equal(where.parent, zygote.pid);
    assert.notEqual(where.session, where.helper, 'not detached: the zygote\'s session');
  });

  test('detached: a session of its own', async () => {
    const where = await whereIsHelper({ detached: true });
    assert.equal(where.parent, zygote.pid);
    assert.equal(where.session, where.helper);
  });

  test('a failing step is reported with its index and errno, as from a spawned helper', async () => {
    const err = await launch({ plan: [step('chdir', [join(dir, 'missing')], 'process.cwd', 'chdir'), step('ready')], stdio: ['ignore', 'ignore', 'ignore'] })
      .then(() => assert.fail('launch must fail'), (e: unknown) => e);
    assert.ok(err instanceof LaunchError, String(err));
    assert.equal(err.stepIndex, 0);
    assert.equal(err.errnoName, 'ENOENT');
    assert.match(err.message, /chdir \(process\.cwd\): .*no such file or directory/);
  });

  test('a program gets its input on stdin and gives back stdout, stderr and its exit code', async () => {
    const run = (script: string, timeoutMs = 10_000) => runProgram({ path: '/bin/sh', args: ['-c', script], env: { X: 'from env' }, input: 'the input', timeoutMs, stderrLimit: 100 });
    const r = await run('cat; echo " $X"; echo complaint >&2; exit 3');
    assert.deepEqual(r, { code: 3, stdout: 'the input from env\n', stderr: 'complaint\n', timedOut: false });
    const killed = await run('exec sleep 10', 100);
    assert.equal(killed.timedOut, true);
    assert.equal(killed.code, null);
    const missing = await runProgram({ path: join(dir, 'no-such-program'), args: [], env: {}, input: '', timeoutMs: 10_000, stderrLimit: 1000 });
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /no-such-program: No such file or directory/);
  });

  test('a launch that needs a pipe to us is spawned by us', async () => {
    const where = await whereIsHelper({ stdio: ['pipe', 'ignore', 'ignore'] });
    assert.equal(where.parent, process.pid);
  });

  test('a helper that cannot connect back fails its launch, naming why', async () => {
    const lonely = (await HelperZygote.start(join(dir, 'lonely.sock')))!;
    try {
      useZygote(lonely);
      rmSync(join(dir, 'lonely.sock'));
      await assert.rejects(launch({ plan: [step('ready')], stdio: ['ignore', 'ignore', 'ignore'] }), /the native helper exited before it connected \(wait status 32512\)/);
    } finally {
      useZygote(zygote);
      await lonely.close();
    }
  });

  test('once the zygote is gone, launches are spawned by us; close() ends it and removes its socket', async () => {
    const doomed = (await HelperZygote.start(join(dir, 'doomed.sock')))!;
    try {
      useZygote(doomed);
      process.kill(doomed.pid, 'SIGKILL');
      await until(() => !doomed.alive);
      assert.equal((await whereIsHelper()).parent, process.pid);
    } finally {
      useZygote(zygote);
      await doomed.close();
    }
    assert.equal(existsSync(join(dir, 'doomed.sock')), false);
    const closing = (await HelperZygote.start(join(dir, 'closing.sock')))!;
    const pid = closing.pid;
    await closing.close();
    await until(() => !alive(pid));
    assert.equal(existsSync(join(dir, 'closing.sock')), false);
  });

  test('when needed: the first launch starts the zygote, on a name in the abstract namespace, and later ones use it', async () => {
    const made: { zygote?: HelperZygote } = {};
    const name = `\0skiff-test-helpers-${process.pid}`;
    try {
      useZygoteWhenNeeded(async () => (made.zygote = await HelperZygote.start(name)));
      assert.equal(made.zygote, undefined, 'nothing started before a launch');
      const first = await whereIsHelper();
      const started = made.zygote!;
      assert.ok(started.alive);
      assert.equal(first.parent, started.pid);
      assert.equal((await whereIsHelper()).parent, started.pid, 'the same zygote');
      const r = await runProgram({ path: '/bin/echo', args: ['abstract'], env: {}, input: '', timeoutMs: 5000, stderrLimit: 100 });
      assert.equal(r.stdout, 'abstract\n');
      assert.match(readFileSync('/proc/net/unix', 'utf8'), new RegExp(`@skiff-test-helpers-${process.pid}`), 'listening on the abstract name');
    } finally {
      useZygote(zygote);
      const pid = made.zygote?.pid;
      await made.zygote?.close();
      if (pid) await until(() => !alive(pid));
    }
  });
});
