// Unpacked layers, one directory per chain ID (image-spec config.md "Layer ChainID") under <root>/snapshots,
// shared by every image and container that has the same stack. A layer is unpacked into a directory under
// <root>/unpacking, its uncompressed digest checked against the config's diff_ids, and renamed into place only
// when whole: a crash leaves no half layer where a reader looks. One unpack per chain ID runs at a time, across
// processes (a lock file) and within one (a shared promise); whoever waited finds the result in place.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { withLock } from '../common/lock.js';
import type { ContentStore, Descriptor } from './content-store.js';

const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** ChainID(L0) = DiffID(L0); ChainID(L0|...|Ln) = sha256(ChainID(L0|...|Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? sha256(`${out[out.length - 1]} ${d}`) : d);
  return out;
}

/** The snapshot's directory name: the chain ID with ':' made file-name friendly ("sha256-<hex>"). */
export function snapshotName(chainId: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(chainId)) throw new SkiffError(`invalid chain ID "${chainId}"`, 'EINVAL');
  return chainId.replace(':', '-');
}

export function snapshotPath(root: string, chainId: string): string {
  return join(root, 'snapshots', snapshotName(chainId), 'fs');
}

/** The file in a container's data directory that names the snapshots its rootfs stands on. */
export function snapshotsRecord(root: string, containerId: string): string {
  return join(root, 'containers', containerId, 'snapshots.json');
}

export interface SnapshotUser {
  /** The container's ID (or an image mount's, see image-mount.ts) under <root>/containers. */
  id: string;
  /** The chain IDs of the snapshots its rootfs stands on, bottom first. */
  chainIds: string[];
}

/** Every container rootfs (and image mount) and the snapshots it stands on. */
export async function snapshotUsers(root: string): Promise<SnapshotUser[]> {
  const dir = join(root, 'containers');
  const out: SnapshotUser[] = [];
  for (const id of existsSync(dir) ? readdirSync(dir) : []) {
    const file = snapshotsRecord(root, id);
    if (!existsSync(file)) continue;
    out.push({ id, chainIds: (JSON.parse(readFileSync(file, 'utf8')) as string[]).map((name) => name.replace('-', ':')) });
  }
  return out;
}

/** Chain IDs of every snapshot a container's rootfs (or an image mount) uses: garbage collection keeps these. */
export async function snapshotsInUse(root: string): Promise<Set<string>> {
  return new Set((await snapshotUsers(root)).flatMap((u) => u.chainIds));
}

/** Removes one snapshot: renamed out of sight first, so it is never seen half deleted. */
export async function removeSnapshot(root: string, chainId: string): Promise<void> {
  const dir = join(root, 'snapshots', snapshotName(chainId));
  if (!existsSync(dir)) return;
  const staging = join(root, 'unpacking');
  await mkdir(staging, { recursive: true });
  const doomed = join(staging, `${snapshotName(chainId)}.removing-${process.pid}`);
  await rename(dir, doomed);
  await rm(doomed, { recursive: true, force: true });
}

const inFlight = new Map<string, Promise<void>>();

export class Snapshots {
  constructor(private readonly root: string, private readonly content: ContentStore) {}

  path(chainId: string): string {
    return snapshotPath(this.root, chainId);
  }

  /**
   * Unpacks every layer not unpacked yet, bottom first; returns the layer directories. `ready(i)`, if given, is
   * awaited before layer i is looked at (a pull unpacks each layer as soon as its blob has arrived).
   */
  async prepare(layers: Descriptor[], diffIds: string[], ready?: (i: number) => Promise<unknown>): Promise<string[]> {
    if (layers.length !== diffIds.length) {
      throw new SkiffError(`image has ${layers.length} layers but its config has ${diffIds.length} rootfs.diff_ids`, 'EINVAL');
    }
    const chains = chainIds(diffIds);
    for (const [i, layer] of layers.entries()) {
      const what = `layer ${layer.digest} (rootfs.diff_ids[${i}])`;
      await ready?.(i);
      if (existsSync(this.path(chains[i]))) continue;
      const key = `${this.root}\0${chains[i]}`;
      let job = inFlight.get(key);
      if (!job) {
        const lowers = chains.slice(0, i).reverse().map((c) => this.path(c));
        job = this.unpackOnce(layer, diffIds[i], chains[i], lowers, what).finally(() => inFlight.delete(key));
        inFlight.set(key, job);
      }
      await job;
    }
    return chains.map((c) => this.path(c));
  }

  private async unpackOnce(layer: Descriptor, diffId: string, chainId: string, lowers: string[], what: string): Promise<void> {
    // The unpacker (zlib, a worker thread) is loaded when a layer is unpacked, not by every user of the snapshots
    // (skiff ps removes containers' rootfs through here; issue 15).
    const { compressionOf } = await import('./unpack/decompress.js');
    const { unpackLayer } = await import('./unpack/unpack-layer.js');
    const compression = compressionOf(layer.mediaType, what);
    const blob = this.content.path(layer.digest);
    if (!existsSync(blob)) throw new SkiffError(`${what}: blob is not in the content store`, 'ENOENT');
    const staging = join(this.root, 'unpacking');
    await mkdir(staging, { recursive: true });
    await mkdir(join(this.root, 'snapshots'), { recursive: true });
    const name = snapshotName(chainId);
    await withLock(join(staging, `${name}.lock`), `unpacking ${what}`, async () => {
      const final = join(this.root, 'snapshots', name);
      if (existsSync(final)) return;
      // Holding the lock, any directory of this name is what a killed unpack left.
      const tmp = join(staging, name);
      await rm(tmp, { recursive: true, force: true });
      await mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o755 });
      try {
        await unpackLayer({ blob, compression, dest: join(tmp, 'fs'), diffId, lowers, what });
        await rename(tmp, final);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      }
    }, 30 * 60_000);
  }
}
