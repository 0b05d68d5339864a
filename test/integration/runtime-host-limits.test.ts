// What a container gets of the host's limits and capabilities: process.rlimits exactly as configured (soft below
// hard included), seen from inside; a capability this host lacks refused before anything is made.
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { POSIXRlimit } from '../../src/oci/runtime-spec.js';
import { Scratch } from '../helpers/bundle.js';

let scratch: Scratch;
before(() => { scratch = new Scratch(); });
after(async () => { await scratch.cleanup(); });

/** Each with soft < hard, and within this runtime's own hard limits (it cannot raise them: no CAP_SYS_RESOURCE). */
const RLIMITS: POSIXRlimit[] = [
  { type: 'RLIMIT_NOFILE', soft: 3000, hard: 4000 },
  { type: 'RLIMIT_CORE', soft: 1000, hard: 2000 },
  { type: 'RLIMIT_STACK', soft: 4194304, hard: 8388608 },
  { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
  { type: 'RLIMIT_MSGQUEUE', soft: 409600, hard: 819200 },
];

/** proc(5) /proc/PID/limits row names. */
const ROW: Record<string, string> = {
  RLIMIT_NOFILE: 'Max open files', RLIMIT_CORE: 'Max core file size', RLIMIT_STACK: 'Max stack size',
  RLIMIT_NPROC: 'Max processes', RLIMIT_MSGQUEUE: 'Max msgqueue size',
};

/** `cat /proc/self/limits` output -> { RLIMIT_X: [soft, hard] } for the limits above. */
function parseLimits(text: string): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const [type, row] of Object.entries(ROW)) {
    const line = text.split('\n').find((l) => l.startsWith(row));
    assert.ok(line, `${row} in\n${text}`);
    const [soft, hard] = line.slice(row.length).trim().split(/\s+/);
    out[type] = [soft, hard];
  }
  return out;
}

const WANT = Object.fromEntries(RLIMITS.map((r) => [r.type, [String(r.soft), String(r.hard)]]));

describe('host limits seen from the container', () => {
  test('process.rlimits with soft below hard: run, create and start, exec', async () => {
    const b = scratch.bundle(['cat', '/proc/self/limits'], (s) => { s.process!.rlimits = RLIMITS; });
    const outPath = join(b.dir, 'run.txt');
    let fd = openSync(outPath, 'w');
    try {
      const r = await scratch.runtime.run('hl-run', { bundle: b.dir, stdio: ['ignore', fd, fd] });
      assert.equal(r.exitCode, 0, readFileSync(outPath, 'utf8'));
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(parseLimits(readFileSync(outPath, 'utf8')), WANT, 'run');

    // Renamed into place, so the file is whole once it is there.
    const b2 = scratch.bundle(['sh', '-c', 'cat /proc/self/limits > /dev/shm/l && mv /dev/shm/l /dev/shm/limits; sleep 30'],
      (s) => { s.process!.rlimits = RLIMITS; });
    const created = await scratch.runtime.create('hl-life', { bundle: b2.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    await scratch.runtime.start('hl-life');
    const inside = `/proc/${created.pid}/root/dev/shm/limits`;
    for (let i = 0; i < 500 && !existsSync(inside); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(parseLimits(readFileSync(inside, 'utf8')), WANT, 'create and start');

    const execOut = join(b2.dir, 'exec.txt');
    fd = openSync(execOut, 'w');
    try {
      const e = await scratch.runtime.exec('hl-life', { args: ['cat', '/proc/self/limits'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 }, rlimits: RLIMITS },
        { stdio: ['ignore', fd, fd] });
      assert.equal((await e.exit!).exitCode, 0);
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(parseLimits(readFileSync(execOut, 'utf8')), WANT, 'exec');
    await scratch.runtime.delete('hl-life', { force: true });
  });

  test('a capability this host lacks is a validation error naming it and its field; nothing is made', async (t) => {
    const bounding = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    if ((bounding >> 24n) & 1n) return t.skip('this host has CAP_SYS_RESOURCE');
    const b = scratch.bundle(['true'], (s) => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_SYS_RESOURCE');
    });
    await assert.rejects(scratch.runtime.create('hl-cap', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] }), (err: Error) => {
      for (const set of ['bounding', 'effective', 'permitted']) {
        assert.match(err.message, new RegExp(`process\\.capabilities\\.${set}\\[3\\]: CAP_SYS_RESOURCE: this host does not have it`));
      }
      assert.doesNotMatch(err.message, /capset/);
      return true;
    });
    assert.ok(!existsSync(join(scratch.runtimeRoot, 'hl-cap')), 'no state was made');
    assert.ok(!existsSync('/sys/fs/cgroup/pids/skiff/hl-cap'), 'no cgroup was made');
  });
});
