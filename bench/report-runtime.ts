// Prints bench/runtime.sh's results: medians per runtime and ratios against runc and crun.
// Usage: node dist/bench/report-runtime.js JSON_DIR
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface HyperfineResult { command: string; median: number; }

const dir = process.argv[2];
const ms = (s: number) => (s * 1000).toFixed(1);
const load = (name: string): Map<string, number> => {
  const results = (JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { results: HyperfineResult[] }).results;
  return new Map(results.map((r) => [r.command, r.median]));
};

const floor = load('floor').get('node -e 0')!;
console.log(`node -e 0 (the floor for any Node CLI): ${ms(floor)} ms\n`);
console.log('median ms            skiff-runtime      runc      crun   skiff/runc  skiff/crun  (skiff-floor)/runc');
for (const [name, label] of [['run-warm', 'run /bin/true warm'], ['run-idle', 'run after 100ms idle'],
  ['lifecycle', 'create/start/state/del'], ['fifty', '50 runs in a row'], ['state', 'state (50 exist)'], ['list', 'list (50 exist)']] as const) {
  const m = load(name);
  const s = m.get('skiff-runtime')!, r = m.get('runc')!, c = m.get('crun')!;
  const aboveFloor = name === 'fifty' ? (s - 50 * floor) / r : (s - floor) / r;
  console.log(`${label.padEnd(22)}${ms(s).padStart(12)}${ms(r).padStart(10)}${ms(c).padStart(10)}` +
    `${(s / r).toFixed(2).padStart(12)}${(s / c).toFixed(2).padStart(12)}${aboveFloor.toFixed(2).padStart(20)}`);
}
console.log('\npeak RSS (KiB, median of 5 runs of `run`):');
for (const rt of ['skiff-runtime', 'runc', 'crun']) {
  const f = join(dir, `peak-${rt}.txt`);
  if (!existsSync(f)) continue;
  const xs = readFileSync(f, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
  console.log(`  ${rt.padEnd(14)} ${xs[Math.floor(xs.length / 2)]}`);
}
const ip = JSON.parse(readFileSync(join(dir, 'inprocess.json'), 'utf8')) as { runMs: number; createStartDeleteMs: number };
const crunRun = load('run-warm').get('crun')! * 1000;
console.log(`\nin-process TypeScript API: run ${ip.runMs.toFixed(1)} ms, create+start+delete ${ip.createStartDeleteMs.toFixed(1)} ms` +
  ` (crun run: ${crunRun.toFixed(1)} ms; ratio ${(ip.createStartDeleteMs / crunRun).toFixed(2)})`);
