// The builtin modules Node loads for the commands of a pod cycle, beyond what every Node process has. Each costs the
// command's start (node:crypto 6-8 ms with the stream modules it pulls in, node:perf_hooks 5 ms, node:child_process
// 9 ms), and the chunk loader loads a builtin only at its first use (src/cli/common/chunk-loader.ts), so one stray
// call puts it back on every run. A preload records process.moduleLoadList at exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skiffStore } from '../helpers/skiff-cli.js';

const store = skiffStore('skiff-startup-modules-');
after(() => store.cleanup());

const preload = join(store.dir, 'record-modules.cjs');
const loadedFile = join(store.dir, 'loaded.json');
writeFileSync(preload, `const before = new Set(process.moduleLoadList);
process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(loadedFile)},
  JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13)))));
`);
const runtimeBin = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));

/** Runs a CLI (its argv after node) with the preload; its stdout and the builtins it loaded. */
function loads(argv: string[]): { out: string; modules: string[] } {
  // Removed first: a run whose preload wrote nothing must not be judged by the previous run's list.
  rmSync(loadedFile, { force: true });
  const r = spawnSync(process.execPath, ['-r', preload, ...argv], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return { out: r.stdout.trim(), modules: JSON.parse(readFileSync(loadedFile, 'utf8')) as string[] };
}

function assertNone(what: string, modules: string[], unwanted: string[]): void {
  const found = unwanted.filter((m) => modules.includes(m));
  assert.deepEqual(found, [], `${what} loads ${found.join(', ')}`);
}

test('a pod cycle loads no node:crypto or node:perf_hooks where it has no use for them', () => {
  // A new store's first pod makes the default network and image once: not what each cycle pays.
  for (const args of [['pod', 'create', '--name', 'first'], ['pod', 'rm', 'first']]) assert.equal(store.run(...args).code, 0);
  const create = loads(store.args('pod', 'create'));
  assertNone('pod create', create.modules, ['crypto', 'perf_hooks', 'child_process', 'net']);
  const pod = create.out;
  // run hashes the image's name to find its record (image-store.ts), so node:crypto is its own.
  const run = loads(store.args('run', '-d', '--pod', pod, 'localhost/busybox', 'sleep', '60'));
  assert.ok(run.modules.includes('child_process'), 'the recording works: run starts helpers');
  assertNone('run --pod', run.modules, ['perf_hooks']);
  assertNone('pod stop', loads(store.args('pod', 'stop', '-t', '0', pod)).modules, ['crypto', 'perf_hooks']);
  assertNone('pod rm', loads(store.args('pod', 'rm', pod)).modules, ['crypto', 'perf_hooks', 'child_process', 'net']);
});

test('skiff-runtime list and --help load none of child_process, net, fs/promises, crypto', () => {
  const root = join(store.dir, 'runtime-root');
  for (const argv of [['--root', root, 'list'], ['--help']]) {
    assertNone(`skiff-runtime ${argv.join(' ')}`, loads([runtimeBin, ...argv]).modules, ['child_process', 'net', 'fs/promises', 'crypto']);
  }
});
