// Usage errors of both command lines: one line naming the problem and where the usage is, exit status 1, and for
// skiff-runtime the same message in its --log, where engines read a runtime's errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = (name: string) => fileURLToPath(new URL(`../../bin/${name}.cjs`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-usage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(name: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin(name), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('skiff: unknown options, commands and missing arguments are one line each', () => {
  for (const [args, line] of [
    [['--root', dir, 'run', '--bogus', 'img'], "skiff: unknown option '--bogus' (see 'skiff run --help')"],
    [['--root', dir, 'frob'], "skiff: unknown command 'frob' (see 'skiff --help')"],
    [['--root', dir, 'image', 'mount'], "skiff: missing required argument 'image' (see 'skiff image mount --help')"],
    [['--root', dir, 'cp', 'c1:/etc'], "skiff: missing required argument 'destination' (see 'skiff cp --help')"],
    [['--root', dir, 'volume', 'frob'], "skiff: unknown command 'frob' (see 'skiff volume --help')"],
    [['--root', dir, 'stats', '--no-stream', '--bogus'], "skiff: unknown option '--bogus' (see 'skiff stats --help')"],
  ] as const) {
    const r = cli('skiff', ...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.err, `${line}\n`);
    assert.equal(r.out, '');
  }
});

test('skiff-runtime: a usage error goes to --log too', () => {
  const log = join(dir, 'log.json');
  const r = cli('skiff-runtime', '--root', dir, '--log', log, '--log-format', 'json', 'state');
  assert.equal(r.code, 1);
  assert.equal(r.err, "skiff-runtime: missing required argument 'container-id' (see 'skiff-runtime state --help')\n");
  const entry = JSON.parse(readFileSync(log, 'utf8').trim());
  assert.deepEqual([entry.level, entry.msg], ['error', "missing required argument 'container-id'"]);
});
