// skiff image prune after processes really killed half way (SIGKILL): a pull while it unpacks a layer, a pull while
// it downloads one, a load while it stores a blob. What they left is removed and reported, the store works after;
// what a live process holds (its lock, its pid in a file name) is left alone until that process is gone.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnCollecting } from '../helpers/async-child.js';
import { buildLayeredImage } from '../helpers/layered-image.js';
import { startRegistryProxy, type RegistryProxy } from '../helpers/registry-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-prune-'));
const rootOf = (store: string) => join(dir, store);
const argv = (store: string, args: string[]) => [skiffBin, '--root', rootOf(store), '--state', join(dir, `${store}-state`), ...args];
// Children run asynchronously: the registry proxy lives in this process. Their temporary files go under `dir`.
const env = { ...process.env, TMPDIR: join(dir, 'tmp') };
const start = (store: string, ...args: string[]) => spawnCollecting(process.execPath, argv(store, args), { env });
const skiff = (store: string, ...args: string[]) => start(store, ...args).done;
const ok = async (store: string, ...args: string[]) => {
  const r = await skiff(store, ...args);
  assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.err}`);
  return r.out;
};
const list = (path: string) => (existsSync(path) ? readdirSync(path).sort() : []);
const until = async (what: string, check: () => boolean) => {
  for (const deadline = Date.now() + 60_000; !check();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
/** Waits without yielding: a layer is unpacked in a fraction of a second, too fast for a timer's polling. */
const untilSync = (what: string, check: () => boolean) => {
  for (const deadline = Date.now() + 60_000; !check();) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
};
const sizeOf = (path: string) => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
const MB = 1024 * 1024;

let registry: TestRegistry;
let proxy: RegistryProxy;
let ref: string;
let bigLayer: string;

before(async () => {
  mkdirSync(join(dir, 'tmp'));
  registry = await startRegistry();
  proxy = await startRegistryProxy(registry.address);
  ref = `${registry.address}/t/big:1`;
  bigLayer = (await buildLayeredImage(rootOf('src'), ref, { 'big.bin': randomBytes(40 * MB) })).digest;
  await ok('src', 'push', '-q', ref);
});

after(async () => {
  await proxy?.stop();
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('skiff image prune after a kill', () => {
  test('a pull killed while unpacking a layer: its directory and lock are removed, the next pull works', async () => {
    const root = rootOf('unpack');
    const pull = start('unpack', 'pull', '-q', ref);
    const staging = join(root, 'unpacking');
    let layerDir = '';
    untilSync('the big layer half unpacked', () => {
      layerDir = list(staging).find((n) => /^sha256-[a-f0-9]{64}$/.test(n) && sizeOf(join(staging, n, 'fs', 'big.bin')) > 4 * MB) ?? '';
      return layerDir !== '';
    });
    process.kill(pull.pid, 'SIGKILL');
    await pull.done;
    assert.deepEqual(list(staging), [layerDir, `${layerDir}.lock`]);
    assert.equal(readFileSync(join(staging, `${layerDir}.lock`), 'utf8'), String(pull.pid));

    const out = await ok('unpack', 'image', 'prune');
    assert.match(out, new RegExp(`^Removed unpacking/${layerDir} \\([\\d.]+ MB\\): a layer unpack that was killed \\(pid ${pull.pid}\\)$`, 'm'));
    assert.match(out, / 1 leftovers of killed processes \([\d.]+ MB\)$/m);
    assert.deepEqual(list(staging), []);
    assert.deepEqual(list(join(root, 'leases')), [], 'the dead pull\'s lease is gone');
    assert.deepEqual(list(join(root, 'content', 'blobs', 'sha256')), [], 'blobs no name needs are collected');

    await ok('unpack', 'pull', '-q', ref);
    const path = (await ok('unpack', 'image', 'mount', ref)).trim();
    assert.equal(statSync(join(path, 'big.bin')).size, 40 * MB);
    await ok('unpack', 'image', 'unmount', ref);
  });

  test('a pull killed while downloading a layer: its .partial and lock are removed', async () => {
    const root = rootOf('download');
    const through = `${proxy.address}/t/big:1`;
    proxy.rule = (s) => (s.method === 'GET' && s.path.endsWith(bigLayer) ? { stallAfter: 8 * MB } : undefined);
    const ingest = join(root, 'content', 'ingest');
    const partial = join(ingest, `${bigLayer.slice(7)}.partial`);
    const pull = start('download', 'pull', '-q', through);
    await until('half the layer downloaded', () => sizeOf(partial) >= 6 * MB);
    process.kill(pull.pid, 'SIGKILL');
    await pull.done;
    proxy.rule = () => undefined;
    // The small layer below may have been downloading (or unpacking) too: its leftovers count with the big one's.
    const partials = list(ingest).filter((n) => n.endsWith('.partial'));
    assert.ok(partials.includes(`${bigLayer.slice(7)}.partial`) && list(ingest).includes(`${bigLayer.slice(7)}.lock`));
    const kept = partials.reduce((n, p) => n + sizeOf(join(ingest, p)), 0);

    const out = await ok('download', 'image', 'prune');
    assert.match(out, new RegExp(`, ${partials.length} interrupted downloads \\(${(kept / 1e6).toFixed(1)} MB\\), \\d leftovers`));
    assert.deepEqual(list(ingest), []);
    assert.deepEqual(list(join(root, 'unpacking')), []);
  });

  test('a load killed while storing a blob: its file under content/ingest is removed', async () => {
    const layout = join(dir, 'layout');
    const copy = spawnSync('skopeo', ['copy', `oci:${join(rootOf('src'), 'content')}:${ref}`, `oci:${layout}:${ref}`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    const ingest = join(rootOf('load'), 'content', 'ingest');
    const load = start('load', 'load', '-i', layout);
    let temp = '';
    untilSync('a blob half stored', () => {
      temp = list(ingest).find((n) => /^(?:[a-f0-9]{64}|stream)\.\d+\.\d+$/.test(n) && sizeOf(join(ingest, n)) > MB) ?? '';
      return temp !== '';
    });
    process.kill(load.pid, 'SIGKILL');
    await load.done;
    assert.ok(list(ingest).includes(temp), `${temp} is left behind`);
    assert.ok(temp.includes(`.${load.pid}.`));

    const out = await ok('load', 'image', 'prune');
    assert.match(out, new RegExp(`^Removed content/ingest/${temp.replace(/\./g, '\\.')} \\([\\d.]+ MB\\): a blob being stored when its process was killed \\(pid ${load.pid}\\)$`, 'm'));
    assert.deepEqual(list(ingest), []);
    rmSync(layout, { recursive: true });
  });

  test('what a live process holds is left alone; once it is gone, it is removed', async () => {
    const root = rootOf('live');
    const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
    const pid = holder.pid!;
    const hex = (c: string) => c.repeat(64);
    const files: Record<string, string> = {
      [`unpacking/sha256-${hex('a')}/fs/file`]: 'x'.repeat(1000),
      [`unpacking/sha256-${hex('a')}.lock`]: String(pid),
      [`content/ingest/${hex('b')}.${pid}.0`]: 'y'.repeat(1000),
      [`content/ingest/${hex('c')}.partial`]: 'z'.repeat(1000),
      [`content/ingest/${hex('c')}.lock`]: String(pid),
      [`images/.${hex('d')}.json.${pid}.0.tmp`]: '{}',
    };
    for (const [f, data] of Object.entries(files)) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), data);
    }
    const all = () => Object.keys(files).filter((f) => existsSync(join(root, f)));
    try {
      assert.match(await ok('live', 'image', 'prune'), /, 0 interrupted downloads \(0 B\), 0 leftovers of killed processes \(0 B\)$/m);
      assert.deepEqual(all(), Object.keys(files));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.on('exit', r));
    }
    mkdirSync(join(root, 'unpacking', `sha256-${hex('e')}.removing-${pid}`));
    const out = await ok('live', 'image', 'prune');
    assert.deepEqual(all(), []);
    assert.deepEqual(list(join(root, 'unpacking')), []);
    assert.match(out, new RegExp(`^Removed unpacking/sha256-${hex('e')}\\.removing-${pid} \\(0 B\\): a snapshot removal that was killed \\(pid ${pid}\\)$`, 'm'));
    assert.match(out, / 1 interrupted downloads \(1\.0 kB\), 4 leftovers of killed processes \([\d.]+ kB\)$/m);
    assert.match(out, new RegExp(`^Removed unpacking/sha256-${hex('a')} \\(1\\.0 kB\\): a layer unpack that was killed \\(pid ${pid}\\)$`, 'm'));
    assert.match(out, /^Total reclaimed space: 3\.0 kB$/m);
  });
});
