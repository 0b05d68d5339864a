// The cgroup v2 driver on a real cgroup-v2-only kernel: one VM boot (test/vm/run-in-vm.sh) runs
// test/vm/cgroups-v2-check.ts inside, which prints its findings as JSON.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const runInVm = fileURLToPath(new URL('../../../test/vm/run-in-vm.sh', import.meta.url));
const check = fileURLToPath(new URL('../vm/cgroups-v2-check.js', import.meta.url));
// The VM sees the host's / read-only but mounts fresh tmpfs on /tmp, /run and /var/tmp: a checkout under one of
// those (CI may clone anywhere) is shared into the VM explicitly, at the same path.
const checkout = fileURLToPath(new URL('../../..', import.meta.url));

test('cgroup v2 driver and a container (ours, and one of crun\'s under our monitor), inside a cgroup-v2-only VM', { timeout: 600_000 }, () => {
  const r = spawnSync('bash', [runInVm, process.execPath, check], { encoding: 'utf8', env: { ...process.env, VMTEST_TIMEOUT: '500', VMTEST_RW_DIR: checkout } });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  assert.ok(line, `no result from the VM (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(line!);
  assert.equal(res.finished, true, `the check stopped early (exit ${r.status}): ${line}`);
  assert.equal(res.mode, 'v2');
  // cpu.shares 1024 (the v1 default) maps to cpu.weight 100 (the v2 default) with runc's conversion (runc#4785).
  assert.deepEqual(res.limits, { memory: String(32 << 20), swap: '0', pids: '16', cpu: '50000 100000', weight: '100' });
  assert.equal(res.oom.signal === 'SIGKILL' || res.oom.status === 137, true, JSON.stringify(res.oom));
  assert.ok(res.oom.kills >= 1);
  assert.equal(res.pidsLimited, true);
  assert.equal(res.frozen, 'frozen');
  assert.equal(res.thawed, 'thawed');
  assert.equal(res.pidsBeforeKill, 1);
  assert.equal(res.updatedPids, '99');
  assert.equal(res.statsHaveMemory, true);
  assert.equal(res.destroyed, true);
  assert.equal(res.container.exitCode, 137, res.container.out);
  const out = res.container.out.split('\n');
  assert.equal(out[0], '20', 'the container sees its own pids.max through its cgroup namespace');
  assert.equal(out[1].trim(), '3', '/dev/zero is allowed');
  assert.match(out[2], /sdx: Operation not permitted/, 'a block device outside the rules is refused by the BPF filter');
  assert.ok(res.container.oomKills >= 1);
  assert.equal(res.containerCgroupRemoved, true);
  // crun as a runtime handler: it made the container under our monitor, which recorded its exit and log.
  assert.equal(res.crun.exit?.exitCode, 6, JSON.stringify(res.crun));
  assert.match(res.crun.log, /stdout F crun pids\.max=30$/m);
  assert.equal(res.crunCgroupRemoved, true);
});
