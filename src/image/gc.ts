// Garbage collection: mark every blob and snapshot reachable from an image name or used by a container's rootfs,
// sweep the rest. Snapshots in use are recorded by prepareRootfs in each container's data directory.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ContentStore, type Descriptor } from './content-store.js';
import { ImageStore } from './image-store.js';
import { chainIds } from './snapshots.js';

export interface GcResult {
  blobs: number;
  snapshots: number;
}

export async function collectGarbage(root: string): Promise<GcResult> {
  const content = new ContentStore(root);
  const liveBlobs = new Set<string>();
  const liveSnapshots = new Set<string>();
  for (const rec of await new ImageStore(root).list()) {
    const manifest = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>(rec.target.digest);
    const config = await content.readJson<{ rootfs: { diff_ids: string[] } }>(manifest.config.digest);
    for (const d of [rec.target, manifest.config, ...manifest.layers]) liveBlobs.add(d.digest.slice(7));
    for (const c of chainIds(config.rootfs.diff_ids)) liveSnapshots.add(c.replace(':', '-'));
  }
  const containers = join(root, 'containers');
  for (const id of existsSync(containers) ? readdirSync(containers) : []) {
    const used = join(containers, id, 'snapshots.json');
    if (existsSync(used)) for (const dir of JSON.parse(readFileSync(used, 'utf8')) as string[]) liveSnapshots.add(dir);
  }
  const result: GcResult = { blobs: 0, snapshots: 0 };
  const blobDir = join(content.dir, 'blobs', 'sha256');
  for (const hex of existsSync(blobDir) ? readdirSync(blobDir) : []) {
    if (!liveBlobs.has(hex)) { rmSync(join(blobDir, hex), { force: true }); result.blobs++; }
  }
  const snapDir = join(root, 'snapshots');
  for (const s of existsSync(snapDir) ? readdirSync(snapDir) : []) {
    // Half-unpacked layers (.tmp-<pid>) belong to an unpack that died, or to one still running: only dead ones go.
    const tmp = /\.tmp-(\d+)$/.exec(s);
    if (tmp && isAlive(Number(tmp[1]))) continue;
    if (!liveSnapshots.has(s)) { rmSync(join(snapDir, s), { recursive: true, force: true }); result.snapshots++; }
  }
  return result;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
