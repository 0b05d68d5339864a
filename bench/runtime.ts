// skiff-runtime side by side with runc and crun on one busybox rootfs (hyperfine medians and ratios), peak memory
// (/usr/bin/time), and the lifecycle driven in-process through the TypeScript API (what skiff run and skiffd use).
// Run as root after scripts/setup.sh:  node dist/bench/runtime.js [RUNS]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeBusyboxRootfs } from '../src/image/busybox-rootfs.js';
import { defaultSpec } from '../src/oci/default-spec.js';
import { Runtime } from '../src/runtime/runtime.js';
import { removeEmptyCgroups } from '../test/helpers/foreign-cgroups.js';

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
const rt = (name: string) => `${name} --root ${work}/${name}-root`;

/**
 * crun refuses this host's hybrid cgroup layout unless the near-empty cgroup2 at /sys/fs/cgroup/unified is hidden,
 * so every command runs in a private mount namespace without it: the same conditions for all three runtimes.
 */
function inPrivateMountNs(argv: string[]): ReturnType<typeof spawnSync> {
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
    'mountpoint -q /sys/fs/cgroup/unified && umount /sys/fs/cgroup/unified; exec "$0" "$@"', ...argv],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function hyperfine(name: string, commands: Record<string, string>, runs = RUNS, extra: string[] = []): Map<string, number> {
  const out = join(work, `${name}.json`);
  const args = ['hyperfine', '--style', 'none', '--warmup', '3', '--runs', String(runs), '--export-json', out, ...extra];
  for (const [label, cmd] of Object.entries(commands)) args.push('-n', label, cmd);
  const r = inPrivateMountNs(args);
  if (r.status !== 0) throw new Error(`hyperfine ${name} failed`);
  const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: { command: string; median: number }[] }).results;
  return new Map(results.map((x) => [x.command, x.median * 1000]));
}

const each = (f: (name: string) => string) => Object.fromEntries(RUNTIMES.map((n) => [n, f(n)]));
/** One container of each runtime at a time: run, create+start+state+delete, the runs in a row, the memory. */
const bundle = each((n) => writeBundle(n, 'run', ['/bin/true']));
const rows: [string, Map<string, number>][] = [];
try {
  const floor = hyperfine('floor', { node: 'node -e 0' }).get('node')!;
  rows.push(['run /bin/true (warm)', hyperfine('run', each((n) => `${rt(n)} run --bundle ${bundle[n]} bench`))]);
  rows.push(['run after 100 ms idle', hyperfine('idle', each((n) => `${rt(n)} run --bundle ${bundle[n]} bench`), RUNS, ['--prepare', 'sleep 0.1'])]);
  rows.push(['create+start+state+delete', hyperfine('lifecycle', each((n) =>
    `${rt(n)} create --bundle ${bundle[n]} lc >/dev/null && ${rt(n)} start lc && ${rt(n)} state lc >/dev/null && ${rt(n)} delete -f lc`))]);
  rows.push(['50 runs in a row', hyperfine('fifty', each((n) => `for i in $(seq 50); do ${rt(n)} run --bundle ${bundle[n]} b$i; done`), 3)]);

  for (const n of RUNTIMES) {
    for (let i = 1; i <= 50; i++) writeBundle(n, `s${i}`, ['sleep', '1000']);
    inPrivateMountNs(['sh', '-c', `for i in $(seq 50); do ${rt(n)} create --bundle ${work}/bundles/${n}/s$i s$i </dev/null >/dev/null 2>&1; done`]);
  }
  rows.push(['state (50 containers)', hyperfine('state', each((n) => `${rt(n)} state s25`))]);
  rows.push(['list (50 containers)', hyperfine('list', each((n) => `${rt(n)} list`))]);
  for (const n of RUNTIMES) inPrivateMountNs(['sh', '-c', `for i in $(seq 50); do ${rt(n)} delete -f s$i 2>/dev/null; done`]);

  const peak = new Map<string, number>();
  for (const n of RUNTIMES) {
    const kib: number[] = [];
    const out = join(work, `rss-${n}.txt`);
    for (let i = 0; i < 5; i++) {
      // GNU time's %M is the largest resident set of the command and its children, in KiB.
      inPrivateMountNs(['/usr/bin/time', '-o', out, '-f', '%M', ...rt(n).split(' '), 'run', '--bundle', bundle[n], 'mem']);
      kib.push(Number(readFileSync(out, 'utf8').trim()));
    }
    peak.set(n, kib.sort((a, b) => a - b)[2]);
  }

  const api = new Runtime({ root: join(work, 'api-root') });
  const apiBundle = writeBundle('api', 'run', ['/bin/true']);
  const stdio: ['ignore', 'ignore', 'ignore'] = ['ignore', 'ignore', 'ignore'];
  const median = async (fn: () => Promise<void>) => {
    for (let i = 0; i < 3; i++) await fn();
    const t: number[] = [];
    for (let i = 0; i < RUNS; i++) { const t0 = performance.now(); await fn(); t.push(performance.now() - t0); }
    return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
  };
  const apiRun = await median(async () => { await api.run('api-run', { bundle: apiBundle, stdio }); });
  const apiLifecycle = await median(async () => {
    await api.create('api-lc', { bundle: apiBundle, stdio });
    await api.start('api-lc');
    await api.delete('api-lc', { force: true });
  });

  const f = (x: number) => x.toFixed(1).padStart(9);
  console.log(`node -e 0 (the floor of any Node CLI): ${floor.toFixed(1)} ms; ${RUNS} runs each, medians in ms\n`);
  console.log(`${'operation'.padEnd(28)}${'skiff'.padStart(9)}${'runc'.padStart(9)}${'crun'.padStart(9)}  skiff/runc  skiff/crun  (skiff-floor)/runc`);
  for (const [label, m] of rows) {
    const s = m.get('skiff-runtime')!, r = m.get('runc')!, c = m.get('crun')!;
    const floors = label.startsWith('50') ? 50 : label.startsWith('create') ? 4 : 1;
    console.log(`${label.padEnd(28)}${f(s)}${f(r)}${f(c)}${(s / r).toFixed(2).padStart(12)}${(s / c).toFixed(2).padStart(12)}${((s - floors * floor) / r).toFixed(2).padStart(20)}`);
  }
  console.log(`\npeak RSS of \`run\`, KiB (median of 5): ${RUNTIMES.map((n) => `${n} ${peak.get(n)}`).join(', ')}`);
  const crunRun = rows[0][1].get('crun')!;
  console.log(`in-process API: run ${apiRun.toFixed(1)} ms, create+start+delete ${apiLifecycle.toFixed(1)} ms; ` +
    `crun run ${crunRun.toFixed(1)} ms (ratio ${(apiLifecycle / crunRun).toFixed(2)})`);
} finally {
  rmSync(work, { recursive: true, force: true });
  // runc and crun made /skiff in the name=systemd and cgroup2 hierarchies too, and leave it.
  removeEmptyCgroups(['skiff']);
}
