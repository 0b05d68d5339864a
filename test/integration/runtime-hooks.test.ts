// The state every kind of hook gets on stdin, and when it runs, as docs/hooks.md says: "created" up to the
// startContainer hooks, "running" once the program runs (poststart), "stopped" after delete (poststop).
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hook, Spec } from '../../src/oci/runtime-spec.js';
import { Scratch } from '../helpers/bundle.js';

let scratch: Scratch;
before(() => { scratch = new Scratch(); });
after(async () => { await scratch.cleanup(); });

const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/**
 * Each hook saves its stdin as <kind>.json in `log` and appends its kind to `order`; poststart also records what
 * the container process is executing. startContainer runs inside the container, where `log` is bound on /hooklog.
 */
function recordingHooks(log: string): (s: Spec) => void {
  const hook = (kind: string, dir: string, extra = ''): Hook => ({
    path: '/bin/sh',
    args: ['sh', '-c', `cat > ${dir}/${kind}.json; ${extra} echo ${kind} >> ${dir}/order`],
  });
  const exe = `pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' ${log}/poststart.json); readlink /proc/$pid/exe > ${log}/poststart.exe;`;
  return (s) => {
    s.mounts!.push({ destination: '/hooklog', type: 'bind', source: log, options: ['rbind', 'rw'] });
    s.hooks = {
      prestart: [hook('prestart', log)], createRuntime: [hook('createRuntime', log)], createContainer: [hook('createContainer', log)],
      // Slow, so a poststart hook that did not wait for it would come first.
      startContainer: [hook('startContainer', '/hooklog', 'sleep 0.5;')],
      poststart: [hook('poststart', log, exe)], poststop: [hook('poststop', log)],
    };
  };
}

function logDir(name: string): string {
  const dir = join(scratch.dir, name);
  mkdirSync(dir);
  return dir;
}

function seen(log: string, kind: string): { status: string; pid?: number; id: string } {
  return JSON.parse(readFileSync(join(log, `${kind}.json`), 'utf8'));
}

/** Statuses and pids every hook saw, given the container's host pid. */
function assertStates(log: string, id: string, hostPid: number): void {
  const want: Record<string, [string, number | undefined]> = {
    prestart: ['created', hostPid], createRuntime: ['created', hostPid], createContainer: ['created', hostPid],
    // Inside the container's pid namespace the process is 1 (runtime.md: the pid as seen where the hook runs).
    startContainer: ['created', 1], poststart: ['running', hostPid], poststop: ['stopped', 0],
  };
  for (const kind of KINDS) {
    const s = seen(log, kind);
    assert.equal(s.id, id, kind);
    assert.deepEqual([s.status, s.pid], want[kind], `${kind} saw ${JSON.stringify(s)}`);
  }
}

describe('hooks: the state on stdin and the order', () => {
  test('create, start, delete: every hook kind sees its status; poststart runs after startContainer and the exec', async () => {
    const log = logDir('log-lifecycle');
    const b = scratch.bundle(['sleep', '30'], recordingHooks(log));
    const created = await scratch.runtime.create('h-life', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    assert.deepEqual(readFileSync(join(log, 'order'), 'utf8').split('\n').filter(Boolean), ['prestart', 'createRuntime', 'createContainer']);
    await scratch.runtime.start('h-life');
    // start returned after its poststart hooks, which came after the startContainer hook and the exec.
    assert.deepEqual(readFileSync(join(log, 'order'), 'utf8').split('\n').filter(Boolean), KINDS.slice(0, 5));
    assert.doesNotMatch(readFileSync(join(log, 'poststart.exe'), 'utf8'), /skiff-init/, 'the program runs, not the helper');
    await scratch.runtime.delete('h-life', { force: true });
    assertStates(log, 'h-life', created.pid!);
  });

  test('run: the same states and order', async () => {
    const log = logDir('log-run');
    const b = scratch.bundle(['sh', '-c', 'sleep 0.2'], recordingHooks(log));
    const out = openSync(join(b.dir, 'out'), 'w');
    try {
      const r = await scratch.runtime.run('h-run', { bundle: b.dir, stdio: ['ignore', out, out] });
      assert.equal(r.exitCode, 0, readFileSync(join(b.dir, 'out'), 'utf8'));
    } finally {
      closeSync(out);
    }
    assert.deepEqual(readFileSync(join(log, 'order'), 'utf8').split('\n').filter(Boolean), KINDS);
    assert.doesNotMatch(readFileSync(join(log, 'poststart.exe'), 'utf8'), /skiff-init/);
    const hostPid = seen(log, 'prestart').pid!;
    assert.ok(hostPid > 1, `a host pid: ${hostPid}`);
    assertStates(log, 'h-run', hostPid);
  });
});
