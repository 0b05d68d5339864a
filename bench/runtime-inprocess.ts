// The runtime lifecycle driven in-process through the TypeScript API (what skiff run and skiffd use): run of
// /bin/true incl. delete, and create+start+delete, timed with perf_hooks. Prints JSON: medians in ms.
// Usage: node dist/bench/runtime-inprocess.js BUNDLE RUNS
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Runtime } from '../src/runtime/runtime.js';

const [bundle, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 30);
const root = mkdtempSync(join(tmpdir(), 'skiff-bench-rt-'));
const rt = new Runtime({ root });
const stdio: ['ignore', 'ignore', 'ignore'] = ['ignore', 'ignore', 'ignore'];

async function timeIt(fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const run = await timeIt(async () => { await rt.run('ip-run', { bundle, stdio }); });
  const lifecycle = await timeIt(async () => {
    await rt.create('ip-lc', { bundle, stdio });
    await rt.start('ip-lc');
    await rt.delete('ip-lc', { force: true });
  });
  process.stdout.write(JSON.stringify({ runMs: median(run), createStartDeleteMs: median(lifecycle), runs }) + '\n');
} finally {
  rmSync(root, { recursive: true, force: true });
}
