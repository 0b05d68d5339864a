// Start-up of the user-facing commands (hyperfine medians, one run): skiff --help, ps and images on an empty store
// of their own, skiff-runtime --help and list, skiffd --help, each as its cost above Node running an empty script
// in the same hyperfine run (the floor of any Node CLI; the goal is at most 30 ms above it), beside podman's help,
// ps and images on a store of its own. With `--before DIST` (another build's dist directory, e.g. a checkout of an
// earlier commit) that build's same commands run in the same hyperfine runs, for before/after figures. The runtime's
// own commands beside runc and crun are in bench/runtime.ts.
// Run as root after scripts/setup.sh:  node dist/bench/startup.js [RUNS] [--before DIST]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Node's own start is measured without NODE_EXTRA_CA_CERTS, as the CLIs' #! line starts node (a host that sets it
// makes node parse that CA file before any script: ~40 ms here, which the floor would otherwise count and the CLIs
// do not pay; src/cli/common/deferred-ca.ts).
delete process.env.NODE_EXTRA_CA_CERTS;

const args = process.argv.slice(2);
const beforeAt = args.indexOf('--before');
const before = beforeAt >= 0 ? args.splice(beforeAt, 2)[1] : undefined;
const RUNS = Number(args[0] ?? 30);
const work = mkdtempSync(join(tmpdir(), 'skiff-bench-startup-'));
const dist = fileURLToPath(new URL('..', import.meta.url));
const store = `--root ${work}/root --state ${work}/state`;
const emptyScript = join(work, 'empty.js');
writeFileSync(emptyScript, '');
const podman = `podman --root ${work}/podman-root --runroot ${work}/podman-run --cgroup-manager cgroupfs --events-backend file`;

function hyperfine(name: string, commands: Record<string, string>): Map<string, number> {
  const out = join(work, `${name}.json`);
  const argv = ['--style', 'none', '--warmup', '3', '--runs', String(RUNS), '--export-json', out, '-N'];
  for (const [label, cmd] of Object.entries(commands)) argv.push('-n', label, cmd);
  const r = spawnSync('hyperfine', argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`hyperfine ${name} failed`);
  const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: { command: string; median: number }[] }).results;
  return new Map(results.map((x) => [x.command, x.median * 1000]));
}

/** The same command of this build, of the --before build if given, and of podman when it has one. */
function commands(bin: string, cmd: string, podmanCmd?: string): Record<string, string> {
  return {
    floor: `node ${emptyScript}`,
    now: `node ${join(dist, 'bin', `${bin}.cjs`)} ${cmd}`,
    ...(before ? { before: `node ${join(before, 'bin', `${bin}.cjs`)} ${cmd}` } : {}),
    ...(podmanCmd ? { podman: `${podman} ${podmanCmd}` } : {}),
  };
}

try {
  const rows: [string, Map<string, number>][] = [
    ['skiff --help', hyperfine('skiff-help', commands('skiff', '--help', '--help'))],
    ['skiff ps -a (empty store)', hyperfine('skiff-ps', commands('skiff', `${store} ps -a`, 'ps -a'))],
    ['skiff images (empty store)', hyperfine('skiff-images', commands('skiff', `${store} images`, 'images'))],
    ['skiff-runtime --help', hyperfine('runtime-help', commands('skiff-runtime', '--help'))],
    ['skiff-runtime list', hyperfine('runtime-list', commands('skiff-runtime', `--root ${work}/runtime list`))],
    ['skiffd --help', hyperfine('skiffd-help', commands('skiffd', '--help'))],
  ];
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1)).padStart(9);
  console.log(`${RUNS} runs each, medians in ms; "above" is now minus Node running an empty script in the same run (goal: <= 30)\n`);
  console.log(`${'command'.padEnd(28)}${'node'.padStart(9)}${'now'.padStart(9)}${'above'.padStart(9)}${'before'.padStart(9)}${'podman'.padStart(9)}  now/before  now/podman`);
  for (const [label, m] of rows) {
    const floor = m.get('floor')!, now = m.get('now')!, was = m.get('before'), pod = m.get('podman');
    const ratio = (x: number | undefined) => (x === undefined ? '-' : (now / x).toFixed(2)).padStart(12);
    console.log(`${label.padEnd(28)}${f(floor)}${f(now)}${f(now - floor)}${f(was)}${f(pod)}${ratio(was)}${ratio(pod)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
