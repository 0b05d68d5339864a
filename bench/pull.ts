// Pull and unpack of a ~100 MB, five-layer image (bench/pull-image.ts) from Debian's docker-registry on loopback:
// skiff side by side with skopeo copy + umoci unpack and with containerd's `ctr image pull` (hyperfine medians and
// ratios, each run from an empty store on an ext4 filesystem made for the benchmark), then skiff's peak memory, its
// pull and unpack phases in-process, the cost of preparing and removing an overlay rootfs on the pulled image, and
// where a skiff pull spends its time (a CPU profile of each thread, gunzip and sha256 alone, fsync time by strace).
// Root. Usage: node dist/bench/pull.js [RUNS]   (RUNS default 5; needs hyperfine, skopeo, umoci, containerd, strace,
// e2fsprogs and a free loop device)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { localImage } from '../src/image/local-image.js';
import { pull } from '../src/image/pull.js';
import { prepareRootfs } from '../src/image/rootfs.js';
import { startRegistry, type TestRegistry } from '../test/helpers/registry.js';
import { containerdSocket, restartContainerd, stopContainerd } from './containerd-daemon.js';
import { scratchExt4, type ScratchFs } from './scratch-fs.js';
import { writeBenchImage, type BenchImageLayer } from './pull-image.js';

const RUNS = Number(process.argv[2] ?? 5);
const ROOTFS_RUNS = 20;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SKIFF = `node ${join(REPO, 'dist/bin/skiff.cjs')}`;

const work = mkdtempSync(join(tmpdir(), 'skiff-pull-bench-'));
// What the pulls write goes to a filesystem of the benchmark's own, the same for every tool (bench/scratch-fs.ts).
let scratch: ScratchFs;
try {
  scratch = scratchExt4(work, 16);
} catch (err) {
  rmSync(work, { recursive: true, force: true });
  throw err;
}
const stores = scratch.path;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(argv: string[], what: string): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what}: ${argv.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  return r.stdout;
}

interface HyperfineResult { command: string; median: number; min: number; max: number; times: number[] }

/** Each command after its own prepare step; times in seconds. */
function hyperfine(commands: { name: string; prepare: string; command: string }[]): Map<string, HyperfineResult> {
  const out = join(work, 'hyperfine.json');
  const args = ['--style', 'none', '--warmup', '1', '--runs', String(RUNS), '--export-json', out];
  for (const c of commands) args.push('--prepare', c.prepare);
  for (const c of commands) args.push('-n', c.name, c.command);
  run(['hyperfine', ...args], 'hyperfine');
  const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: HyperfineResult[] }).results;
  return new Map(results.map((r) => [r.command, r]));
}

interface ProfileSummary {
  /** Self time by category, ms, largest first. */
  categories: [string, number][];
  /** Self time by function ("open < openSync" for a native frame: its caller names it), ms, largest first. */
  functions: [string, number][];
}

/** Self time of the main thread: a frame's category is that of its deepest ancestor (or itself) a rule matches. */
function summariseProfile(file: string): ProfileSummary {
  interface Node { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const rules: [RegExp, string][] = [
    [/src\/image\/unpack\/tar-reader/, 'tar read'],
    [/node:(internal\/)?child_process/, 'child processes (spawnSync)'],
    [/src\/image\/unpack\//, 'layer apply (JS)'],
    [/node:(internal\/)?fs/, 'fs syscalls (tar apply, ingest)'],
    [/node:(internal\/)?worker/, 'to the layer writer thread (postMessage)'],
    [/node:zlib/, 'gunzip (main-thread side)'],
    [/node:internal\/crypto/, 'sha256'],
    [/src\/image\/(registry|content-store)|node:internal\/deps\/undici|node:net|stream_base_commons/, 'download (HTTP, ingest)'],
    [/node:internal\/modules|node:internal\/main/, 'module loading'],
  ];
  const special = new Map([
    ['(garbage collector)', 'GC'], ['(idle)', 'idle (waiting: network, threadpool)'], ['(program)', 'V8/native (unattributed)'],
  ]);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const category = new Map<number, string>();
  const fnName = new Map<number, string>();
  const visit = (n: Node, inherited: string, caller: string) => {
    const { functionName, url } = n.callFrame;
    const c = special.get(functionName) ?? rules.find(([re]) => re.test(url))?.[1] ?? inherited;
    const name = functionName || '(anonymous)';
    category.set(n.id, c);
    fnName.set(n.id, url ? `${name} (${url.replace(/^.*\/(node_modules|dist)\//, '')})` : `${name} < ${caller}`);
    for (const k of n.children ?? []) visit(byId.get(k)!, c, name);
  };
  visit(prof.nodes[0], 'other JS', '');
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const [i, id] of prof.samples.entries()) {
    const v = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    add(categories, category.get(id)!, v);
    add(functions, fnName.get(id)!, v);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { categories: sorted(categories), functions: sorted(functions) };
}

/** Gunzip alone, then gunzip + sha256 of the tar (what unpack does before any entry is parsed), in ms. */
async function decompressCost(blobs: string[]): Promise<{ gunzip: number; gunzipHash: number }> {
  const time = async (hash: boolean) => {
    const t = performance.now();
    for (const b of blobs) {
      const h = createHash('sha256');
      await pipeline(createReadStream(b), createGunzip(), new Writable({ write(c: Buffer, _e, cb) { if (hash) h.update(c); cb(); } }));
    }
    return performance.now() - t;
  };
  return { gunzip: await time(false), gunzipHash: await time(true) };
}

/** Total seconds a command spends in fsync/fdatasync, and how many calls (strace -T on those syscalls only). */
function fsyncTime(argv: string[]): { calls: number; seconds: number } {
  const out = join(work, 'fsync.strace');
  run(['strace', '--seccomp-bpf', '-f', '-qq', '-T', '-e', 'trace=fsync,fdatasync', '-o', out, ...argv], 'strace');
  const times = readFileSync(out, 'utf8').split('\n').map((l) => /<([\d.]+)>$/.exec(l)?.[1]).filter(Boolean).map(Number);
  return { calls: times.length, seconds: times.reduce((a, b) => a + b, 0) };
}

/** Unmounts whatever is still mounted under `dir`, deepest first (a run that failed half way). */
function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((p) => p?.startsWith(dir + '/'));
  for (const p of points.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', p]);
}

/**
 * A hyperfine prepare step that gives each run a new, empty directory (its path in `file`) and deletes nothing
 * while runs are timed: freeing the last run's ~25k inodes would compete with this one. All go at the end.
 */
const freshDir = (file: string, prefix: string) => `mktemp -d -p ${stores} ${prefix}-XXXXXX > ${file}; sync`;

let registry: TestRegistry | undefined;
const cd = join(stores, 'containerd');
try {
  let t = performance.now();
  const layers: BenchImageLayer[] = writeBenchImage(join(work, 'oci'), '1');
  const size = (f: (l: BenchImageLayer) => number) => (layers.reduce((a, l) => a + f(l), 0) / 1e6).toFixed(1);
  console.log(`image: ${layers.length} layers, ${size((l) => l.uncompressed)} MB of tar, ${size((l) => l.size)} MB gzip, ` +
    `${layers.reduce((a, l) => a + l.entries, 0)} entries (${layers.map((l) => l.entries).join(' + ')}); generated in ${ms(performance.now() - t)}`);
  registry = await startRegistry();
  const ref = `${registry.address}/bench/big:1`;
  run(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${join(work, 'oci')}:1`, `docker://${ref}`], 'push');

  mkdirSync(cd);
  const ctr = `ctr --address ${containerdSocket(cd)}`;
  const restart = `node ${join(REPO, 'dist/bench/containerd-daemon.js')} restart ${cd}`;
  // containerd unpacks as part of `ctr images pull`: check it made one snapshot per layer.
  restartContainerd(cd);
  run(['sh', '-c', `${ctr} images pull --plain-http ${ref} >/dev/null`], 'containerd check pull');
  const unpacked = run(['sh', '-c', `${ctr} snapshots ls | tail -n +2`], 'containerd snapshots').trim().split('\n').length;
  if (unpacked !== layers.length) throw new Error(`ctr images pull left ${unpacked} snapshots for ${layers.length} layers`);

  const next = (tool: string) => join(work, `${tool}.next`);
  const results = hyperfine([
    { name: 'skiff', prepare: freshDir(next('skiff'), 'skiff'), command: `${SKIFF} --root $(cat ${next('skiff')}) pull -q ${ref}` },
    {
      name: 'skopeo+umoci', prepare: freshDir(next('umoci'), 'umoci'),
      command: `d=$(cat ${next('umoci')}); skopeo copy -q --src-tls-verify=false docker://${ref} oci:$d/oci:1 && umoci unpack --image $d/oci:1 $d/bundle`,
    },
    { name: 'containerd', prepare: `${restart}; sync`, command: `${ctr} images pull --plain-http ${ref}` },
  ]);
  const s = results.get('skiff')!, u = results.get('skopeo+umoci')!, c = results.get('containerd')!;
  const sec = (x: number) => `${x.toFixed(2)} s`.padStart(9);
  console.log(`\npull + unpack into an empty store on a new ext4 (loop device), ${RUNS} runs each (1 warmup)`);
  console.log(`${''.padEnd(14)}${'median'.padStart(9)}${'min'.padStart(9)}${'max'.padStart(9)}`);
  for (const [name, r] of [['skiff', s], ['skopeo+umoci', u], ['containerd', c]] as const) {
    console.log(`${name.padEnd(14)}${sec(r.median)}${sec(r.min)}${sec(r.max)}`);
  }
  const ratio = s.median / c.median;
  console.log(`skiff/containerd ${ratio.toFixed(2)}, skiff/(skopeo+umoci) ${(s.median / u.median).toFixed(2)}; ` +
    `target <= 0.70x containerd: ${ratio <= 0.7 ? 'met' : 'NOT met'}`);

  const rss: number[] = [];
  const hwm: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = join(work, 'rss.txt');
    // GNU time's %M: the largest resident set of the command, in KiB.
    run(['/usr/bin/time', '-o', out, '-f', '%M', ...SKIFF.split(' '), '--root', mkdtempSync(join(stores, 'rss-')), 'pull', '-q', ref], 'peak RSS');
    rss.push(Number(readFileSync(out, 'utf8').trim()));
    const pid = restartContainerd(cd);
    run(['sh', '-c', `${ctr} images pull --plain-http ${ref} >/dev/null`], 'containerd pull');
    hwm.push(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]));
  }
  const mib = (kib: number[]) => `${(median(kib) / 1024).toFixed(0)} MiB`;
  console.log(`\npeak RSS, median of 3 pulls: skiff ${mib(rss)}; containerd daemon ${mib(hwm)} (its high-water mark after one pull; ctr not counted)`);

  const libRoot = join(stores, 'lib-root');
  t = performance.now();
  await pull(libRoot, ref);
  const pullMs = performance.now() - t;
  t = performance.now();
  const img = await localImage(libRoot, ref);
  const unpackMs = performance.now() - t;
  console.log(`in-process (library): pull ${ms(pullMs)} (download, verify, fsync), unpack ${ms(unpackMs)} (gunzip, sha256, tar apply)`);

  const prepare: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < ROOTFS_RUNS; i++) {
    t = performance.now();
    const rootfs = await prepareRootfs(libRoot, `bench-${i}`, img.layers, { method: 'overlay' });
    prepare.push(performance.now() - t);
    if (rootfs.method !== 'overlay') throw new Error(`rootfs fell back to ${rootfs.method}`);
    t = performance.now();
    await rootfs.unmount();
    remove.push(performance.now() - t);
  }
  console.log(`overlay rootfs on the pulled image (${img.layers.length} lower layers), ${ROOTFS_RUNS} runs: ` +
    `prepare median ${median(prepare).toFixed(1)} ms, remove median ${median(remove).toFixed(1)} ms`);

  console.log('\nwhere a skiff pull spends its time');
  const blobs = layers.map((l) => join(libRoot, 'content', 'blobs', 'sha256', l.digest.slice(7)));
  const dc = await decompressCost(blobs);
  console.log(`  gunzip of all layers alone ${ms(dc.gunzip)}; gunzip + sha256 ${ms(dc.gunzipHash)} (in-process, warm cache)`);
  const fs = fsyncTime([...SKIFF.split(' '), '--root', mkdtempSync(join(stores, 'fsync-')), 'pull', '-q', ref]);
  console.log(`  fsync/fdatasync: ${fs.calls} calls, ${ms(fs.seconds * 1000)} in all (strace -T)`);
  // The unbundled modules run the same code as dist/bin/skiff.cjs, but every frame names its module.
  const profDir = join(work, 'prof');
  run(['node', '--cpu-prof', '--cpu-prof-dir', profDir, join(REPO, 'dist/src/cli/skiff/main.js'), '--root', mkdtempSync(join(stores, 'prof-')), 'pull', '-q', ref], 'profile');
  // One profile per thread, named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main one.
  for (const file of readdirSync(profDir).sort()) {
    const profile = summariseProfile(join(profDir, file));
    const total = profile.categories.reduce((a, [, v]) => a + v, 0);
    const line = (name: string, v: number) => `    ${name.padEnd(48)}${ms(v).padStart(9)} ${((100 * v) / total).toFixed(0).padStart(3)}%`;
    const thread = file.split('.')[4] === '0' ? 'main thread' : 'layer writer thread';
    console.log(`  ${thread} (node --cpu-prof), ${ms(total)} in all, by category:`);
    for (const [name, v] of profile.categories) console.log(line(name, v));
    console.log('  the ten largest functions by self time:');
    for (const [name, v] of profile.functions.slice(0, 10)) console.log(line(name, v));
  }
} finally {
  stopContainerd(cd);
  if (registry) await registry.stop();
  unmountUnder(stores);
  scratch.remove();
  rmSync(work, { recursive: true, force: true });
}
