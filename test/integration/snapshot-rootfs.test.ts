// Snapshots and container root filesystems on the real kernel: a two-layer image whose upper layer deletes,
// replaces and makes opaque, seen through overlayfs and through the copying fallback (forced, and chosen by itself
// where the upper directory sits on overlayfs); unpacking once per chain ID; what GC is told; nothing left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { ContentStore, type Descriptor } from '../../src/image/content-store.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { prepareRootfs, type RootfsMethod } from '../../src/image/rootfs.js';
import { chainIds, removeSnapshot, snapshotPath, Snapshots, snapshotsInUse } from '../../src/image/snapshots.js';
import { buildTar, type TarEntry } from '../helpers/hostile-tar.js';

const work = mkdtempSync(join(tmpdir(), 'skiff-snap-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const lower: TarEntry[] = [
  { path: 'bin/', type: 'Directory' },
  { path: 'bin/tool', content: 'v1', mode: 0o755 },
  { path: 'gone', content: 'deleted above' },
  { path: 'cache/', type: 'Directory' },
  { path: 'cache/old', content: 'hidden by the opaque dir above' },
  { path: 'swap/', type: 'Directory' },
  { path: 'swap/inner', content: 'a directory replaced by a file above' },
];
const upper: TarEntry[] = [
  { path: 'bin/tool', content: 'v2', mode: 0o755 },
  { path: '.wh.gone', content: '' },
  { path: 'cache/', type: 'Directory' },
  { path: 'cache/.wh..wh..opq', content: '' },
  { path: 'cache/new', content: 'n' },
  { path: 'swap', content: 'now a file' },
];

async function storeImage(root: string): Promise<{ layers: Descriptor[]; diffIds: string[] }> {
  const content = new ContentStore(root);
  const tars = [buildTar(lower), buildTar(upper)];
  const layers = await Promise.all(tars.map((t) => content.ingest(gzipSync(t), MEDIA_TYPES.ociLayerGzip)));
  return { layers, diffIds: tars.map(sha) };
}

function assertMerged(path: string): void {
  assert.equal(readFileSync(join(path, 'bin/tool'), 'utf8'), 'v2');
  assert.ok(!existsSync(join(path, 'gone')), 'the whiteout deletes');
  assert.deepEqual(readdirSync(join(path, 'cache')), ['new'], 'the opaque directory hides the lower content');
  assert.equal(readFileSync(join(path, 'swap'), 'utf8'), 'now a file');
}

const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${path} `);

describe('snapshots and rootfs', () => {
  const root = join(work, 'root');
  let layerDirs: string[] = [];
  let chains: string[] = [];

  test('each layer is unpacked once per chain ID, even when asked twice at once', async () => {
    const { layers, diffIds } = await storeImage(root);
    const content = new ContentStore(root);
    const [a, b] = await Promise.all([new Snapshots(root, content).prepare(layers, diffIds), new Snapshots(root, content).prepare(layers, diffIds)]);
    assert.deepEqual(a, b);
    assert.deepEqual(a, chainIds(diffIds).map((c) => snapshotPath(root, c)));
    assert.deepEqual(readdirSync(join(root, 'unpacking')), [], 'no temporary directory or lock left');
    assert.ok(lstatSync(join(a[1], 'gone')).isCharacterDevice());
    layerDirs = a;
    chains = chainIds(diffIds);
  });

  test('a layer whose content does not match its diff_id is refused and leaves no snapshot', async () => {
    const other = join(work, 'bad-root');
    const { layers, diffIds } = await storeImage(other);
    const wrong = [diffIds[0], `sha256:${'1'.repeat(64)}`];
    await assert.rejects(new Snapshots(other, new ContentStore(other)).prepare(layers, wrong),
      new RegExp(`^SkiffError: layer ${layers[1].digest} \\(rootfs.diff_ids\\[1\\]\\): uncompressed content has digest ${diffIds[1]}, the image config says sha256:1{64}$`));
    assert.equal(readdirSync(join(other, 'snapshots')).length, 1, 'only the good bottom layer');
    assert.deepEqual(readdirSync(join(other, 'unpacking')), []);
  });

  for (const method of ['overlay', 'copy'] as RootfsMethod[]) {
    test(`a container rootfs by ${method}: merged view, own changes, removed whole`, async () => {
      const rootfs = await prepareRootfs(root, `c-${method}`, layerDirs, { method });
      try {
        assert.equal(rootfs.method, method);
        assertMerged(rootfs.path);
        writeFileSync(join(rootfs.path, 'bin/tool'), 'changed');
        assert.equal(readFileSync(join(layerDirs[0], 'bin/tool'), 'utf8'), 'v1', 'the snapshot is untouched');
        assert.equal(mounted(rootfs.path), method === 'overlay');
        assert.deepEqual(await snapshotsInUse(root), new Set(chains));
      } finally {
        await rootfs.unmount();
      }
      assert.ok(!mounted(rootfs.path));
      assert.deepEqual(readdirSync(join(root, 'containers')), []);
    });
  }

  test('read-only image mounts: a bind of one layer, an overlay of several', async () => {
    for (const layers of [layerDirs.slice(0, 1), layerDirs]) {
      const rootfs = await prepareRootfs(root, 'ro', layers, { readonly: true });
      try {
        assert.equal(rootfs.method, layers.length === 1 ? 'bind' : 'overlay');
        assert.throws(() => writeFileSync(join(rootfs.path, 'x'), ''), /EROFS/);
      } finally {
        await rootfs.unmount();
      }
    }
  });

  test('where overlay cannot be mounted (upper directory on overlayfs) the copy is chosen and said', async () => {
    const base = join(work, 'ovl');
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(base, d), { recursive: true });
    const m = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`, `${base}/merged`]);
    assert.equal(m.status, 0, m.stderr?.toString());
    mounts.push(`${base}/merged`);
    const nested = join(base, 'merged', 'root');
    const logged: string[] = [];
    const rootfs = await prepareRootfs(nested, 'fallback', layerDirs, { log: (l) => logged.push(l) });
    try {
      assert.equal(rootfs.method, 'copy');
      assert.match(logged.join('\n'), /^skiff: overlay mount for fallback failed \(.*\); copying the image's layers instead$/);
      assertMerged(rootfs.path);
    } finally {
      await rootfs.unmount();
    }
    assert.deepEqual(readdirSync(join(nested, 'containers')), []);
  });

  test('removeSnapshot removes one snapshot and nothing else', async () => {
    const [bottom, top] = chainIds((await storeImage(root)).diffIds);
    await removeSnapshot(root, top);
    assert.ok(!existsSync(snapshotPath(root, top)));
    assert.ok(existsSync(snapshotPath(root, bottom)));
    await removeSnapshot(root, top);
    assert.deepEqual(readdirSync(join(root, 'unpacking')), []);
  });
});
