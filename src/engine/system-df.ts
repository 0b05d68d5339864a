// docker system df: what images, containers and volumes take on disk. skiff keeps an image twice, its blobs as
// pulled (compressed) and its layers unpacked (snapshots), so an image's size is both; what several images share
// (a base layer) is counted once in the total and shown as their shared size. A container's size is its rootfs's
// upper directory (what it wrote); a volume's, its data.
import { dirname } from 'node:path';
import { ContentStore } from '../image/content-store.js';
import { summarizeAll, type ImageSummary } from '../image/image-summary.js';
import { chainIds, snapshotPath } from '../image/snapshots.js';
import { diskUsage } from '../image/sweep.js';
import { viewOf, type ContainerView } from './container-view.js';
import type { EngineContext } from './context.js';
import { reconcileAll } from './reconcile.js';
import { listVolumes, type VolumeView } from './volume-usage.js';
import { directorySize } from './volumes.js';
import { join } from 'node:path';

export interface ImageUsage {
  /** The image under one of its names (an image with several names is listed under each, as docker does). */
  summary: ImageSummary;
  /** Bytes of its blobs and unpacked layers. */
  size: number;
  /** Of those, the bytes other images have too. */
  shared: number;
  /** Containers created from it. */
  containers: number;
}

export interface DiskUsage {
  images: ImageUsage[];
  /** Distinct images (by ID), and those that containers use. */
  imageCount: number;
  activeImages: number;
  /** Bytes of every image's blobs and layers, each counted once; of those, the bytes no container's image uses. */
  imagesSize: number;
  imagesReclaimable: number;
  containers: { view: ContainerView; size: number }[];
  volumes: { view: VolumeView; size: number }[];
}

/** The blobs (by digest) and unpacked layers (by chain ID) an image consists of, with their sizes. */
async function partsOf(ctx: EngineContext, content: ContentStore, s: ImageSummary, sizes: Map<string, number>): Promise<string[]> {
  if (!s.manifest || !s.config) return [];
  const blobs = [s.record.target, s.manifest.config, ...s.manifest.layers];
  for (const b of blobs) if (!sizes.has(b.digest)) sizes.set(b.digest, (await content.size(b.digest)) ?? 0);
  const diffIds = s.config.rootfs?.diff_ids ?? [];
  const layers = diffIds.every((d) => /^sha256:[a-f0-9]{64}$/.test(d)) ? chainIds(diffIds).map((c) => `layer ${c}`) : [];
  for (const l of layers) {
    if (!sizes.has(l)) sizes.set(l, await diskUsage(dirname(snapshotPath(ctx.paths.root, l.slice('layer '.length)))));
  }
  return [...blobs.map((b) => b.digest), ...layers];
}

export async function diskUsageOf(ctx: EngineContext): Promise<DiskUsage> {
  const records = await reconcileAll(ctx);
  const content = new ContentStore(ctx.paths.root);
  const summaries = await summarizeAll(ctx.paths.root);
  const sizes = new Map<string, number>();
  // Per image ID: its parts; per part: the image IDs that have it.
  const partsById = new Map<string, string[]>();
  for (const s of summaries) if (s.id && !partsById.has(s.id)) partsById.set(s.id, await partsOf(ctx, content, s, sizes));
  const holders = new Map<string, Set<string>>();
  for (const [id, parts] of partsById) for (const p of parts) holders.set(p, (holders.get(p) ?? new Set()).add(id));
  const containersOf = (id: string) => records.filter((r) => r.image.id === id).length;
  const sum = (parts: Iterable<string>) => [...parts].reduce((n, p) => n + (sizes.get(p) ?? 0), 0);
  const used = new Set([...partsById].filter(([id]) => containersOf(id) > 0).flatMap(([, parts]) => parts));
  const images = summaries.map((summary) => {
    const parts = summary.id ? partsById.get(summary.id)! : [];
    return { summary, size: sum(parts), shared: sum(parts.filter((p) => holders.get(p)!.size > 1)), containers: summary.id ? containersOf(summary.id) : 0 };
  });
  const volumes = await listVolumes(ctx);
  return {
    images,
    imageCount: partsById.size,
    activeImages: [...partsById.keys()].filter((id) => containersOf(id) > 0).length,
    imagesSize: sum(holders.keys()),
    imagesReclaimable: sum([...holders.keys()].filter((p) => !used.has(p))),
    containers: await Promise.all(records.map(async (r) => ({ view: await viewOf(ctx, r), size: directorySize(join(ctx.paths.container(r.id), 'upper')) }))),
    volumes: volumes.map((view) => ({ view, size: ctx.volumes.size(view.name) })),
  };
}
