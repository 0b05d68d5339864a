// The readers listings lean on: small files read whole into a kept buffer, and pod records kept parsed while their
// file is the one read before.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readSmallFile } from '../../src/common/read-small.js';
import { PodPaths, PodRecords } from '../../src/pod/pod-records.js';
import { isSameProcessAlive, processStartTime, processState } from '../../src/runtime/proc.js';
import type { PodRecord } from '../../src/pod/pod-types.js';

const work = mkdtempSync(join(tmpdir(), 'skiff-record-reads-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('readSmallFile: a file larger than its buffer whole, procfs files, errors as readFileSync', () => {
  const big = join(work, 'big');
  const text = 'é'.repeat(40_000);
  writeFileSync(big, text);
  assert.equal(readSmallFile(big), text);
  assert.equal(readSmallFile(join(work, 'big')), text, 'again, with the grown buffer');
  assert.match(readSmallFile('/proc/self/stat'), new RegExp(`^${process.pid} \\(`));
  assert.throws(() => readSmallFile(join(work, 'missing')), { code: 'ENOENT' });
});

test('PodRecords.snapshot: the same object while the file is unchanged, a new one after any write; frozen', async () => {
  const records = new PodRecords(new PodPaths(join(work, 'root'), join(work, 'state')));
  const id = 'a'.repeat(64);
  mkdirSync(records.paths.pod(id), { recursive: true });
  const rec = { id, name: 'p', status: 'created', containers: [] } as unknown as PodRecord;
  await records.write(rec);
  const first = records.snapshot(id);
  assert.equal(records.snapshot(id), first);
  assert.throws(() => { (first as PodRecord).status = 'running'; }, TypeError);
  assert.throws(() => { (first.containers as string[]).push('x'); }, TypeError);
  await records.write({ ...rec, status: 'running' });
  assert.equal(records.snapshot(id).status, 'running', 'a write of this process');
  // Another process's write: a new file renamed over the record, as writeFileAtomic does it.
  const other = join(records.paths.pod(id), 'other');
  writeFileSync(other, JSON.stringify({ ...rec, status: 'exited' }));
  renameSync(other, records.paths.record(id));
  assert.equal(records.snapshot(id).status, 'exited', 'a write of another process');
  const kept = records.snapshot(id);
  records.keepSnapshotsOf(new Set([id]));
  assert.equal(records.snapshot(id), kept);
  records.keepSnapshotsOf(new Set());
  assert.notEqual(records.snapshot(id), kept, 'forgotten, so read again');
  rmSync(records.paths.record(id));
  assert.throws(() => records.snapshot(id), { code: 'ENOENT', message: `no such pod: ${id}` });
});

test('/proc/PID/stat: state and start time of a process whose name has spaces and parentheses', async () => {
  const odd = join(work, 'x) (y z');
  copyFileSync('/bin/sleep', odd);
  const child = spawn(odd, ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r));
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
    assert.equal(await processStartTime(child.pid!), fields[19]);
    assert.match((await processState(child.pid!))!, /^[RS]$/);
    assert.equal(await isSameProcessAlive(child.pid!, fields[19]), true);
    assert.equal(await isSameProcessAlive(child.pid!, String(Number(fields[19]) + 1)), false, 'another start time: a recycled pid');
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((r) => child.once('exit', r));
  assert.equal(await processStartTime(child.pid!), undefined);
});
