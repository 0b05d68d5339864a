// load and save stream: an archive with a 1 GiB layer (uncompressed in a docker-archive, gzipped in an oci-archive)
// is loaded and saved in both formats with a peak RSS (/usr/bin/time) far below the layer's size, and no
// extraction directory. An interrupted load or save (SIGINT, SIGTERM) dies of its signal and leaves nothing
// behind; a SIGKILLed save leaves only a temporary file named as skiff's.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { writeBigDockerArchive, writeBigGzipLayout } from '../helpers/archive-fixtures.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-archive-stream-'));
const GiB = 1024 * 1024 * 1024;
/** Node and the skiff bundle take about 50 MB; a layer held in memory would add 1 GiB. */
const MAX_RSS = 256 * 1024 * 1024;

const args = (root: string, cmd: string[]) => [skiffBin, '--root', join(dir, root), '--state', join(dir, `${root}-state`), ...cmd];

/** Runs skiff under /usr/bin/time; returns its output and peak RSS in bytes. */
function measured(root: string, ...cmd: string[]): { code: number | null; out: string; err: string; rss: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'maxrss %M', process.execPath, ...args(root, cmd)], { encoding: 'utf8' });
  const m = /maxrss (\d+)\n$/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return { code: r.status, out: r.stdout, err: r.stderr.slice(0, m.index), rss: Number(m[1]) * 1024 };
}

const loadDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('skiff-load-') || f.startsWith('skiff-save-'));
const ingestFiles = (root: string) => (existsSync(join(dir, root, 'content', 'ingest')) ? readdirSync(join(dir, root, 'content', 'ingest')) : []);

/** Starts skiff, waits until `ready()` holds, sends `signal`; returns how it ended. */
async function interrupted(root: string, cmd: string[], ready: () => boolean, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  const child = spawn(process.execPath, args(root, cmd), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  try {
    for (let i = 0; !ready(); i++) {
      assert.ok(i < 600, `never ready: ${err}`);
      await sleep(20);
    }
    child.kill(signal);
    return { ...await exited, err };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('load and save stream', () => {
  const dockerTar = join(dir, 'big-docker.tar');
  const ociTar = join(dir, 'big-oci.tar');
  let before0: string[];

  before(async () => {
    before0 = loadDirs();
    writeBigDockerArchive(dockerTar, GiB, 'localhost/big:1');
    const layout = join(dir, 'big-layout');
    await writeBigGzipLayout(layout, GiB, 'localhost/biggz:1');
    const r = spawnSync('tar', ['-C', layout, '-cf', ociTar, '.']);
    assert.equal(r.status, 0, String(r.stderr));
    rmSync(layout, { recursive: true });
  });

  test('a 1 GiB uncompressed layer in a docker-archive: load and save in flat memory', () => {
    const loaded = measured('a', 'load', '-i', dockerTar);
    assert.equal(loaded.out, 'Loaded image: localhost/big:1\n', loaded.err);
    assert.ok(loaded.rss < MAX_RSS, `load: peak RSS ${loaded.rss}`);
    assert.deepEqual(ingestFiles('a'), []);
    for (const format of ['docker-archive', 'oci-archive']) {
      const out = join(dir, `saved-${format}.tar`);
      const saved = measured('a', 'save', '--format', format, '-o', out, 'localhost/big:1');
      assert.equal(saved.code, 0, saved.err);
      assert.ok(saved.rss < MAX_RSS, `save ${format}: peak RSS ${saved.rss}`);
      assert.ok(statSync(out).size > GiB);
      rmSync(out);
    }
    assert.deepEqual(loadDirs(), before0);
  });

  test('a gzipped layer of 1 GiB in an oci-archive: load (decompressed to check its diff_id) and save as docker-archive in flat memory', () => {
    const loaded = measured('b', 'load', '-i', ociTar);
    assert.equal(loaded.out, 'Loaded image: localhost/biggz:1\n', loaded.err);
    assert.ok(loaded.rss < MAX_RSS, `load: peak RSS ${loaded.rss}`);
    const out = join(dir, 'saved-gz.tar');
    const saved = measured('b', 'save', '--format', 'docker-archive', '-o', out, 'localhost/biggz:1');
    assert.equal(saved.code, 0, saved.err);
    assert.ok(saved.rss < MAX_RSS, `save: peak RSS ${saved.rss}`);
    // The saved docker-archive loads again: its layer is the uncompressed 1 GiB tar, under its diff_id.
    const again = measured('c', 'load', '-i', out);
    assert.equal(again.out, 'Loaded image: localhost/biggz:1\n', again.err);
    rmSync(out);
    assert.deepEqual(loadDirs(), before0);
  });

  test('an interrupted load dies of its signal and leaves no name and no ingest file', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const root = `int-${signal}`;
      const r = await interrupted(root, ['load', '-i', dockerTar], () => ingestFiles(root).length > 0, signal);
      assert.equal(r.signal, signal, r.err);
      assert.deepEqual(ingestFiles(root), []);
      assert.ok(!existsSync(join(dir, root, 'images')) || readdirSync(join(dir, root, 'images')).filter((f) => !f.startsWith('.')).length === 0);
    }
    assert.deepEqual(loadDirs(), before0);
  });

  test('an interrupted save dies of its signal and leaves nothing; a SIGKILLed one leaves a file named as skiff\'s', async () => {
    const outDir = join(dir, 'out');
    mkdirSync(outDir);
    const out = join(outDir, 'x.tar');
    const temp = () => readdirSync(outDir).filter((f) => f.startsWith('x.tar.skiff-save-'));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const r = await interrupted('a', ['save', '-o', out, 'localhost/big:1'], () => temp().length > 0, signal);
      assert.equal(r.signal, signal, r.err);
      assert.deepEqual(readdirSync(outDir), []);
    }
    const killed = await interrupted('a', ['save', '-o', out, 'localhost/big:1'], () => temp().length > 0, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(readdirSync(outDir).length, 1);
    assert.match(readdirSync(outDir)[0], /^x\.tar\.skiff-save-\d+\.tmp$/);
  });
});
