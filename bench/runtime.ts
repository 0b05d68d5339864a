// skiff-runtime side by side with runc and crun on one busybox rootfs, peak memory (/usr/bin/time), and the
// lifecycle driven in-process through the TypeScript API (what skiff run and skiffd use).
// The commands are timed interleaved: each round runs every runtime's command and `node -e 0` once, in turn, so a
// drift of this machine's speed (node -e 0 alone moves by 20-40 ms within minutes) hits all of them alike, and each
// round gives a paired "above node" figure for skiff-runtime: the issue's measure of a Node CLI.
// Run as root after scripts/setup.sh:  node dist/bench/runtime.js [RUNS]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { makeBusyboxRootfs } from '../src/image/busybox-rootfs.js';
import { defaultSpec } from '../src/oci/default-spec.js';
import { Runtime } from '../src/runtime/runtime.js';
import { removeEmptyCgroups } from '../test/helpers/foreign-cgroups.js';

// Node's own start is measured without NODE_EXTRA_CA_CERTS, as the CLIs' #! line starts node (a host that sets it
// makes node parse that CA file before any script: ~40 ms here, which the floor would otherwise count and the CLIs
// do not pay; src/cli/common/deferred-ca.ts).
delete process.env.NODE_EXTRA_CA_CERTS;

// crun refuses this host's hybrid cgroup layout unless the near-empty cgroup2 at /sys/fs/cgroup/unified is hidden,
// so the bench runs itself again in a private mount namespace without it: the same conditions for all three.
const PRIVATE = 'SKIFF_BENCH_PRIVATE_MOUNT_NS';
if (!process.env[PRIVATE]) {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
    'mountpoint -q /sys/fs/cgroup/unified && umount /sys/fs/cgroup/unified; exec "$0" "$@"',
    process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, [PRIVATE]: '1' } });
  process.exit(r.status ?? 1);
}

const RUNS = Number(process.argv[2] ?? 20);
const RUNTIMES = ['skiff-runtime', 'runc', 'crun'];
const work = mkdtempSync(join(tmpdir(), 'skiff-bench-'));
const rootfs = join(work, 'rootfs');
makeBusyboxRootfs(rootfs);
const spec = defaultSpec();
spec.process!.terminal = false;

/**
 * The bundle of one runtime's container `key`: the rootfs shared (an absolute root.path), the cgroup under /skiff.
 * Without a cgroupsPath, runc and crun put a container's cgroup under their caller's own, which is not ours; and
 * containers that exist at once need cgroups of their own.
 */
function writeBundle(runtime: string, key: string, args: string[]): string {
  const dir = join(work, 'bundles', runtime, key);
  mkdirSync(dir, { recursive: true });
  const config = {
    ...spec, root: { ...spec.root, path: rootfs }, process: { ...spec.process!, args },
    linux: { ...spec.linux, cgroupsPath: `/skiff/bench-${runtime}-${key}` },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}
const rt = (name: string) => [name, '--root', `${work}/${name}-root`];
const sh = (line: string) => spawnSync('sh', ['-c', line], { stdio: 'ignore' });

interface Timed {
  /** argv, run with stdin, stdout and stderr on /dev/null (runc create must not hold a pipe of ours). */
  cmd: string[];
  /** A shell line run before each timed run, not timed. */
  prepare?: string;
}

interface Row {
  /** Median wall ms of each command ("node" is `node -e 0`). */
  median: Map<string, number>;
  /** Median over the rounds of skiff-runtime's time minus node's in the same round. */
  aboveNode: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function interleaved(commands: Record<string, Timed>, runs = RUNS, warmup = 3): Row {
  const all: Record<string, Timed> = { node: { cmd: ['node', '-e', '0'] }, ...commands };
  const times = new Map<string, number[]>(Object.keys(all).map((k) => [k, []]));
  const above: number[] = [];
  for (let round = 0; round < warmup + runs; round++) {
    const t: Record<string, number> = {};
    for (const [name, c] of Object.entries(all)) {
      if (c.prepare) sh(c.prepare);
      const t0 = performance.now();
      const r = spawnSync(c.cmd[0], c.cmd.slice(1), { stdio: 'ignore' });
      t[name] = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${c.cmd.join(' ')}: ${r.error ? `${r.error.message} (is scripts/setup.sh run? it puts skiff-runtime on PATH)` : `exit ${r.status ?? r.signal}`}`);
    }
    if (round < warmup) continue;
    for (const [name, ms] of Object.entries(t)) times.get(name)!.push(ms);
    above.push(t['skiff-runtime'] - t.node);
  }
  return { median: new Map([...times].map(([k, v]) => [k, median(v)])), aboveNode: median(above) };
}

const each = (f: (name: string) => Timed) => Object.fromEntries(RUNTIMES.map((n) => [n, f(n)]));
/** One container of each runtime at a time: run, each command alone, the runs in a row, state and list, memory. */
const bundle = Object.fromEntries(RUNTIMES.map((n) => [n, writeBundle(n, 'run', ['/bin/true'])]));
const rows: [string, Row][] = [];
try {
  rows.push(['run /bin/true (warm)', interleaved(each((n) => ({ cmd: [...rt(n), 'run', '--bundle', bundle[n], 'bench'] })))]);
  rows.push(['run after 100 ms idle', interleaved(each((n) => ({ cmd: [...rt(n), 'run', '--bundle', bundle[n], 'bench'], prepare: 'sleep 0.1' })))]);

  // Each command alone, as a shim or conmon calls it, the container brought to the state it needs by a prepare of
  // the same runtime that is not timed.
  const sleeper = Object.fromEntries(RUNTIMES.map((n) => [n, writeBundle(n, 'one', ['sleep', '1000'])]));
  const line = (n: string, ...args: string[]) => [...rt(n), ...args].join(' ');
  const fresh = (n: string) => `${line(n, 'delete', '-f', 'one')} >/dev/null 2>&1; ${line(n, 'create', '--bundle', sleeper[n], 'one')} </dev/null >/dev/null 2>&1`;
  rows.push(['create', interleaved(each((n) => ({ cmd: [...rt(n), 'create', '--bundle', sleeper[n], 'one'], prepare: `${line(n, 'delete', '-f', 'one')} >/dev/null 2>&1` })))]);
  rows.push(['start', interleaved(each((n) => ({ cmd: [...rt(n), 'start', 'one'], prepare: fresh(n) })))]);
  rows.push(['kill KILL', interleaved(each((n) => ({ cmd: [...rt(n), 'kill', 'one', 'KILL'], prepare: `${fresh(n)} && ${line(n, 'start', 'one')}` })))]);
  rows.push(['delete (stopped)', interleaved(each((n) => ({
    cmd: [...rt(n), 'delete', 'one'], prepare: `${fresh(n)} && ${line(n, 'start', 'one')} && ${line(n, 'kill', 'one', 'KILL')} && sleep 0.1`,
  })))]);
  for (const n of RUNTIMES) sh(`${line(n, 'delete', '-f', 'one')} >/dev/null 2>&1`);

  const fifty = (cmd: string) => ({ cmd: ['sh', '-c', `for i in $(seq 50); do ${cmd}; done`] });
  rows.push(['50 runs in a row (vs 50 node -e 0)', interleaved({
    ...each((n) => fifty(`${line(n, 'run', '--bundle', bundle[n])} b$i`)), node: fifty('node -e 0'),
  }, 3, 1)]);

  for (const n of RUNTIMES) {
    for (let i = 1; i <= 50; i++) writeBundle(n, `s${i}`, ['sleep', '1000']);
    sh(`for i in $(seq 50); do ${line(n, 'create', '--bundle', `${work}/bundles/${n}/s$i`, 's$i')} </dev/null >/dev/null 2>&1; done`);
  }
  rows.push(['state (50 containers)', interleaved(each((n) => ({ cmd: [...rt(n), 'state', 's25'] })))]);
  rows.push(['list (50 containers)', interleaved(each((n) => ({ cmd: [...rt(n), 'list'] })))]);
  for (const n of RUNTIMES) sh(`for i in $(seq 50); do ${line(n, 'delete', '-f', 's$i')} 2>/dev/null; done`);

  const peak = new Map<string, number>();
  for (const n of RUNTIMES) {
    const kib: number[] = [];
    const out = join(work, `rss-${n}.txt`);
    for (let i = 0; i < 5; i++) {
      // GNU time's %M is the largest resident set of the command and its children, in KiB.
      spawnSync('/usr/bin/time', ['-o', out, '-f', '%M', ...rt(n), 'run', '--bundle', bundle[n], 'mem'], { stdio: 'ignore' });
      kib.push(Number(readFileSync(out, 'utf8').trim()));
    }
    peak.set(n, kib.sort((a, b) => a - b)[2]);
  }

  const api = new Runtime({ root: join(work, 'api-root') });
  const apiBundle = writeBundle('api', 'run', ['/bin/true']);
  const stdio: ['ignore', 'ignore', 'ignore'] = ['ignore', 'ignore', 'ignore'];
  const timedApi = async (fn: () => Promise<void>) => {
    for (let i = 0; i < 3; i++) await fn();
    const t: number[] = [];
    for (let i = 0; i < RUNS; i++) { const t0 = performance.now(); await fn(); t.push(performance.now() - t0); }
    return median(t);
  };
  const apiRun = await timedApi(async () => { await api.run('api-run', { bundle: apiBundle, stdio }); });
  const apiLifecycle = await timedApi(async () => {
    await api.create('api-lc', { bundle: apiBundle, stdio });
    await api.start('api-lc');
    await api.delete('api-lc', { force: true });
  });

  const f = (x: number) => x.toFixed(1).padStart(9);
  console.log(`${RUNS} rounds each (the 50-run row 3), medians in ms; node is \`node -e 0\` in the same rounds; ` +
    '"above node" is the median of skiff-runtime minus node, round by round\n');
  console.log(`${'operation'.padEnd(36)}${'skiff'.padStart(9)}${'runc'.padStart(9)}${'crun'.padStart(9)}${'node'.padStart(9)}${'above node'.padStart(12)}  (skiff-node)/runc`);
  for (const [label, row] of rows) {
    const m = row.median;
    console.log(`${label.padEnd(36)}${f(m.get('skiff-runtime')!)}${f(m.get('runc')!)}${f(m.get('crun')!)}${f(m.get('node')!)}${f(row.aboveNode).padStart(12)}${(row.aboveNode / m.get('runc')!).toFixed(2).padStart(19)}`);
  }
  console.log(`\npeak RSS of \`run\`, KiB (median of 5): ${RUNTIMES.map((n) => `${n} ${peak.get(n)}`).join(', ')}`);
  const crunRun = rows[0][1].median.get('crun')!;
  console.log(`in-process API: run ${apiRun.toFixed(1)} ms, create+start+delete ${apiLifecycle.toFixed(1)} ms; ` +
    `crun run ${crunRun.toFixed(1)} ms (ratio ${(apiLifecycle / crunRun).toFixed(2)})`);
} finally {
  rmSync(work, { recursive: true, force: true });
  // runc and crun made /skiff in the name=systemd and cgroup2 hierarchies too, and leave it.
  removeEmptyCgroups(['skiff']);
}
