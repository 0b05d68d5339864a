// The private memory of a container's monitor: N skiff monitors (Runtime.createMonitored) beside N conmons (podman
// run -d with runc, as podman runs them), all of busybox `sleep 1000` containers running at once. Private memory is
// Private_Clean + Private_Dirty of /proc/PID/smaps_rollup: what each extra container costs the host. Pages of a
// binary that several monitors map are shared, which is why N > 1.
// Run as root after scripts/setup.sh:  node dist/bench/monitor-memory.js [N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../src/image/busybox-rootfs.js';
import { defaultSpec } from '../src/oci/default-spec.js';
import { processState } from '../src/runtime/proc.js';
import { Runtime } from '../src/runtime/runtime.js';
import { cgroupsBelow, removeEmptyCgroups } from '../test/helpers/foreign-cgroups.js';

const N = Number(process.argv[2] ?? 10);
const work = mkdtempSync(join(tmpdir(), 'skiff-bench-monitor-'));
const rootfs = join(work, 'bundle', 'rootfs');
makeBusyboxRootfs(rootfs);
const spec = defaultSpec();
spec.process!.terminal = false;
spec.process!.args = ['sleep', '1000'];
writeFileSync(join(work, 'bundle', 'config.json'), JSON.stringify(spec));

function smaps(pid: number): { clean: number; dirty: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)![1]);
  return { clean: kb('Private_Clean'), dirty: kb('Private_Dirty') };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// podman's flags as in test/integration/podman-interop.test.ts: cgroupfs, and ulimits this host lets a runtime set.
const podmanArgs = ['--cgroup-manager', 'cgroupfs', '--runtime', 'runc'];
const podman = (...args: string[]) => spawnSync('podman', [...podmanArgs, ...args], { encoding: 'utf8', timeout: 60_000 });
const names = Array.from({ length: N }, (_, i) => `skiff-bench-${process.pid}-${i}`);
const runtime = new Runtime({ root: join(work, 'state') });
const ids = Array.from({ length: N }, (_, i) => `bench-monitor-${i}`);
const conmonPids: number[] = [];
const podmanCgroupsBefore = new Set(cgroupsBelow('libpod_parent'));

/** Running, not a zombie: a conmon holds its cgroup until it has exited. */
async function running(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== undefined && state !== 'Z';
}

try {
  const skiff: { clean: number; dirty: number }[] = [];
  for (const id of ids) {
    await runtime.createMonitored(id, { bundle: join(work, 'bundle') }, {
      logPath: join(work, `${id}.log`), exitFile: join(work, `${id}.exit`), attachSocket: join(work, `${id}.sock`), stdin: true,
    });
    await runtime.start(id);
  }
  const conmon: { clean: number; dirty: number }[] = [];
  for (const name of names) {
    const r = podman('run', '-d', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096',
      '--name', name, '--rootfs', rootfs, 'sleep', '1000');
    if (r.status !== 0) throw new Error(`podman run: ${r.stderr.trim()}`);
  }
  await new Promise((r) => setTimeout(r, 500)); // both settled in their loops
  for (const id of ids) skiff.push(smaps((await runtime.store.read(id)).monitor!.pid));
  for (const name of names) conmonPids.push(Number(podman('inspect', '--format', '{{.State.ConmonPid}}', name).stdout.trim()));
  for (const pid of conmonPids) conmon.push(smaps(pid));

  const row = (label: string, xs: { clean: number; dirty: number }[]) => {
    const total = median(xs.map((x) => x.clean + x.dirty));
    console.log(`${label.padEnd(22)}${String(total).padStart(10)}${String(median(xs.map((x) => x.dirty))).padStart(10)}` +
      `${String(median(xs.map((x) => x.clean))).padStart(10)}`);
    return total;
  };
  console.log(`${N} monitors of each kind at once, medians in KiB\n`);
  console.log(`${'monitor'.padEnd(22)}${'private'.padStart(10)}${'dirty'.padStart(10)}${'clean'.padStart(10)}`);
  const s = row('skiff-init monitor', skiff);
  const c = row('conmon (podman)', conmon);
  console.log(`\nskiff/conmon: ${(s / c).toFixed(2)}`);
} finally {
  for (const id of ids) await runtime.delete(id, { force: true }).catch(() => {});
  podman('rm', '-f', '-t', '0', ...names);
  // podman rm returns before the conmons have exited; their cgroup can only go once they have.
  for (let i = 0; i < 100 && (await Promise.all(conmonPids.map(running))).some(Boolean); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  // podman's cgroupfs manager leaves conmon's cgroup behind (libpod_parent/conmon), and its runc each container's in
  // the name=systemd and cgroup2 hierarchies: those this run made go once empty.
  removeEmptyCgroups([...cgroupsBelow('libpod_parent').filter((p) => !podmanCgroupsBefore.has(p)), 'libpod_parent/conmon', 'libpod_parent']);
  rmSync(work, { recursive: true, force: true });
}
