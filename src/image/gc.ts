// Garbage collection, mark and sweep. Marked: every blob reachable from an image name (index, manifest, config,
// layers), every blob a live pull holds a lease on, every snapshot on an image's chain of layers, and every
// snapshot a container's rootfs or an image mount stands on (snapshotsInUse, kept by the snapshot code). Swept:
// the rest of the blobs and snapshots, interrupted downloads no image needs and no running pull is continuing,
// and what killed processes left (sweep.ts). The layout's index.json is written again from the names, repairing
// one that a crash between a name and its index left behind.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ContentStore, type Descriptor } from './content-store.js';
import { ImageStore } from './image-store.js';
import { leasedDigests } from './lease.js';
import { isIndex } from './media-types.js';
import { chainIds, removeSnapshot, snapshotsInUse } from './snapshots.js';
import { diskUsage, ifUnlocked, sweepLeftovers, type Leftover } from './sweep.js';

export interface GcResult {
  blobs: number;
  bytes: number;
  snapshots: number;
  snapshotBytes: number;
  partials: number;
  partialBytes: number;
  /** What killed processes left, each with why it was removed. */
  leftovers: Leftover[];
}

export async function gc(root: string): Promise<GcResult> {
  const content = new ContentStore(root);
  const result: GcResult = { blobs: 0, bytes: 0, snapshots: 0, snapshotBytes: 0, partials: 0, partialBytes: 0, leftovers: await sweepLeftovers(root) };
  const images = new ImageStore(root);
  await images.writeIndex();
  const liveBlobs = await leasedDigests(root);
  // A pull's lease names the chain IDs of the layers it is unpacking as well as its blobs.
  const liveSnapshots = new Set([...await snapshotsInUse(root), ...liveBlobs]);
  const markManifest = async (desc: Descriptor): Promise<void> => {
    liveBlobs.add(desc.digest);
    const doc = await content.readJson<{ manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }>(desc.digest).catch(() => undefined);
    if (!doc) return;
    if (isIndex(desc.mediaType)) {
      for (const m of doc.manifests ?? []) await markManifest(m);
      return;
    }
    for (const d of [doc.config, ...(doc.layers ?? [])]) if (d) liveBlobs.add(d.digest);
    if (!doc.config) return;
    const config = await content.readJson<{ rootfs?: { diff_ids?: string[] } }>(doc.config.digest).catch(() => undefined);
    const diffIds = config?.rootfs?.diff_ids;
    if (Array.isArray(diffIds) && diffIds.every((d) => /^sha256:[a-f0-9]{64}$/.test(d))) for (const c of chainIds(diffIds)) liveSnapshots.add(c);
  };
  for (const rec of await images.list()) await markManifest(rec.target);

  for (const digest of await content.list()) {
    if (liveBlobs.has(digest)) continue;
    result.bytes += (await content.size(digest)) ?? 0;
    await content.delete(digest);
    result.blobs++;
  }
  for (const s of await readdir(join(root, 'snapshots')).catch(() => [] as string[])) {
    if (!/^sha256-[a-f0-9]{64}$/.test(s)) continue;
    const chainId = s.replace('-', ':');
    if (liveSnapshots.has(chainId)) continue;
    result.snapshotBytes += await diskUsage(join(root, 'snapshots', s));
    await removeSnapshot(root, chainId);
    result.snapshots++;
  }
  for (const p of await content.partials()) {
    if (liveBlobs.has(p.digest)) continue;
    // ContentStore.ingestFrom appends to the partial holding <hex>.lock: held by a live pull, it is left alone.
    await ifUnlocked(`${p.path.slice(0, -'.partial'.length)}.lock`, async () => {
      result.partialBytes += await diskUsage(p.path);
      await rm(p.path, { force: true });
      result.partials++;
    });
  }
  return result;
}
