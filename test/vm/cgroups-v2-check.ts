// Runs INSIDE the cgroup-v2-only VM (test/vm/run-in-vm.sh): exercises the v2 driver and a whole container on a
// real unified hierarchy (one of our runtime's, one of crun's under our monitor), and prints one JSON line of results for test/integration/cgroups-v2-vm.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupV2 } from '../../src/cgroups/v2.js';
import { detectHostFacts } from '../../src/runtime/host-facts.js';
import { OciBinaryRuntime } from '../../src/runtime/oci-binary.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { makeBundle } from '../helpers/bundle.js';

const results: Record<string, unknown> = {};
// Print what we have even if a step never finishes (node exits 13 on an unsettled top-level await).
process.on('exit', () => console.log(JSON.stringify(results)));
const read = (cg: CgroupV2, f: string) => readFileSync(join(cg.dir, f), 'utf8').trim();

/** A shell that moves itself into the cgroup first, then runs `script`. */
function inCgroup(cg: CgroupV2, script: string) {
  return spawnSync('sh', ['-c', `echo $$ > ${cg.dir}/cgroup.procs && ${script}`], { encoding: 'utf8' });
}

results.mode = (await detectHostFacts()).cgroupMode;

const cg = new CgroupV2('/skiff/vmcheck');
await cg.create({ memory: { limit: 32 << 20, swap: 32 << 20 }, pids: { limit: 16 }, cpu: { shares: 1024, quota: 50000, period: 100000 } });
results.limits = { memory: read(cg, 'memory.max'), swap: read(cg, 'memory.swap.max'), pids: read(cg, 'pids.max'), cpu: read(cg, 'cpu.max'), weight: read(cg, 'cpu.weight') };

const oom = inCgroup(cg, 'a=$(head -c 200000000 /dev/zero | tr "\\0" x)');
results.oom = { status: oom.status, signal: oom.signal, kills: await cg.oomKillCount() };

const fork = inCgroup(cg, 'for i in $(seq 40); do sleep 5 & done 2>&1; echo done');
results.pidsLimited = /fork|Resource temporarily unavailable/i.test(fork.stdout + fork.stderr);
await cg.killAll(9);

const sleeper = spawn('sh', ['-c', `echo $$ > ${cg.dir}/cgroup.procs && exec sleep 100`]);
const sleeperExit = new Promise((r) => sleeper.on('exit', r));
await new Promise((r) => setTimeout(r, 200));
await cg.freeze();
results.frozen = await cg.freezerState();
await cg.thaw();
results.thawed = await cg.freezerState();
results.pidsBeforeKill = (await cg.pids()).length;
await cg.update({ pids: { limit: 99 } });
results.updatedPids = read(cg, 'pids.max');
const stats = await cg.stats();
results.statsHaveMemory = stats.memory.usage.usage > 0;
await cg.killAll(9);
await sleeperExit;
await cg.destroy();
results.destroyed = spawnSync('test', ['-e', cg.dir]).status !== 0;

// A whole container through the runtime, with limits, on cgroup v2.
const dir = mkdtempSync('/tmp/skiff-vm-');
const rt = new Runtime({ root: join(dir, 'state'), warn: () => {} });
const b = makeBundle(dir, ['sh', '-c', 'cat /sys/fs/cgroup/pids.max; head -c 3 /dev/zero | wc -c; mknod /dev/sdx b 8 0 && head -c 1 /dev/sdx; a=$(head -c 200000000 /dev/zero | tr "\\0" x)'], (s) => {
  // The default spec's device rules (deny all, then the usual nodes), enforced by the BPF device filter.
  s.linux!.resources = { ...s.linux!.resources, pids: { limit: 20 }, memory: { limit: 32 << 20, swap: 32 << 20 } };
  for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_MKNOD');
  s.linux!.namespaces!.push({ type: 'cgroup' });
});
const fd = openSync(join(dir, 'out'), 'w');
const run = await rt.run('vm1', { bundle: b.dir, stdio: ['ignore', fd, fd], keep: true });
closeSync(fd);
results.container = { exitCode: run.exitCode, out: readFileSync(join(dir, 'out'), 'utf8').trim(), oomKills: await (await rt.cgroupOf('vm1')).oomKillCount() };
await rt.delete('vm1', { force: true });
results.containerCgroupRemoved = spawnSync('test', ['-e', '/sys/fs/cgroup/skiff/vm1']).status !== 0;

// Another runtime's binary under our monitor (a runtime handler): crun, which refuses the host's hybrid layout.
const crun = new OciBinaryRuntime('crun', '/usr/bin/crun', join(dir, 'crun'), detectHostFacts, () => {});
const cb = makeBundle(dir, ['sh', '-c', 'echo crun pids.max=$(cat /sys/fs/cgroup/pids.max); exit 6'], (s) => {
  s.linux!.cgroupsPath = '/skiff/vm2';
  s.linux!.resources = { ...s.linux!.resources, pids: { limit: 30 } };
  s.linux!.namespaces!.push({ type: 'cgroup' });
});
const crunExit = join(dir, 'vm2.exit');
const crunLog = join(dir, 'vm2.log');
await crun.createMonitored('vm2', { bundle: cb.dir }, { logPath: crunLog, exitFile: crunExit });
await crun.start('vm2');
for (let i = 0; i < 200 && !existsSync(crunExit); i++) await new Promise((r) => setTimeout(r, 50));
results.crun = { exit: existsSync(crunExit) ? JSON.parse(readFileSync(crunExit, 'utf8')) : null, log: readFileSync(crunLog, 'utf8') };
await crun.delete('vm2', { force: true });
results.crunCgroupRemoved = spawnSync('test', ['-e', '/sys/fs/cgroup/skiff/vm2']).status !== 0;
results.finished = true;
