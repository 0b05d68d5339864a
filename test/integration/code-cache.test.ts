// The CLIs' V8 code caches (src/cli/common/chunk-loader.ts) as a user meets them: a copy of the built skiff-runtime
// (dist/bin) whose caches are missing, stale (another build's, or cut short), rejected by V8 (garbage after a good
// header), or on a read-only install. Every run prints exactly what a run with good caches prints; a bad cache is
// replaced by a good one at exit, and a read-only install just runs without.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../../bin', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-code-cache-'));
cpSync(built, join(dir, 'bin'), { recursive: true });
const chunks = join(dir, 'bin', 'lib', 'skiff-runtime');

after(() => {
  spawnSync('umount', [join(dir, 'bin')]);
  rmSync(dir, { recursive: true, force: true });
});

/** `skiff-runtime --help` from the copy: its output, which must not depend on the caches. */
function help(): string {
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'skiff-runtime.cjs'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

const caches = () => readdirSync(chunks).filter((f) => f.endsWith('.cache'));
const header = (f: string) => readFileSync(join(chunks, f)).subarray(0, 19).toString('latin1');
const goodOutput = help();

test('missing caches: the run is the same and writes them', () => {
  for (const f of caches()) rmSync(join(chunks, f));
  assert.equal(help(), goodOutput);
  assert.ok(caches().length > 0, 'caches written at exit');
  for (const f of caches()) assert.equal(header(f), 'skiff-code-cache 1\n');
});

test('stale caches (another chunk\'s, cut short) and ones V8 rejects are replaced; the output never changes', () => {
  const used = caches();
  const [first, second, third] = used;
  // Another chunk's cache under this name: the header names the other chunk.
  writeFileSync(join(chunks, first), readFileSync(join(chunks, second)));
  // Cut short inside the header.
  writeFileSync(join(chunks, second), readFileSync(join(chunks, second)).subarray(0, 10));
  // A good header, then bytes V8 does not accept.
  if (third) {
    const good = readFileSync(join(chunks, third));
    const end = good.indexOf(10, 19) + 1;
    writeFileSync(join(chunks, third), Buffer.concat([good.subarray(0, end), Buffer.alloc(4096, 0x5a)]));
  }
  assert.equal(help(), goodOutput);
  const sizes = new Map(used.map((f) => [f, statSync(join(chunks, f)).size]));
  assert.ok(sizes.get(second)! > 100, 'the cut cache was rewritten');
  assert.ok(readFileSync(join(chunks, first)).includes(Buffer.from(first.replace(/\.cache$/, ''))), 'the wrong cache was rewritten for its chunk');
  if (third) assert.notEqual(readFileSync(join(chunks, third)).subarray(-4096).toString('latin1'), 'Z'.repeat(4096), 'the rejected cache was rewritten');
  assert.equal(help(), goodOutput);
});

test('a read-only install runs without caches and writes nothing', () => {
  for (const f of caches()) rmSync(join(chunks, f));
  const bin = join(dir, 'bin');
  const ro = spawnSync('sh', ['-c', `mount --bind ${bin} ${bin} && mount -o remount,bind,ro ${bin}`], { encoding: 'utf8' });
  assert.equal(ro.status, 0, ro.stderr);
  try {
    assert.equal(help(), goodOutput);
    assert.deepEqual(caches(), []);
    assert.deepEqual(readdirSync(chunks).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    spawnSync('umount', [bin]);
  }
});
