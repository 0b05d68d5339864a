// ImageFsInfo: what images take on their filesystem: the content store (blobs) and the unpacked layers, in bytes
// of disk (st_blocks, as du and containerd's snapshotter count them) and inodes, each hard-linked file once. The
// filesystem is named by the store's root directory, which the kubelet asks for capacity and free space.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CriContext } from './context.js';
import type { ImageFsInfoResponse } from './proto/generated/runtime/v1/ImageFsInfoResponse.js';

interface Usage {
  bytes: bigint;
  inodes: bigint;
}

/** Disk usage of the trees under `paths` (missing ones count nothing), each inode once. */
async function usageOf(paths: string[]): Promise<Usage> {
  const seen = new Set<string>();
  const total: Usage = { bytes: 0n, inodes: 0n };
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!st || seen.has(`${st.dev}:${st.ino}`)) return;
    seen.add(`${st.dev}:${st.ino}`);
    // stat(2): st_blocks counts 512-byte units, whatever the filesystem's block size.
    total.bytes += st.blocks * 512n;
    total.inodes += 1n;
    if (st.isDirectory()) for (const e of await readdir(path).catch(() => [] as string[])) await walk(join(path, e));
  };
  for (const p of paths) await walk(p);
  return total;
}

export async function imageFsInfo(ctx: CriContext): Promise<ImageFsInfoResponse> {
  const root = ctx.config.root;
  const timestamp = String(BigInt(Date.now()) * 1_000_000n);
  const usage = await usageOf([join(root, 'content'), join(root, 'snapshots')]);
  return {
    image_filesystems: [{
      timestamp, fs_id: { mountpoint: root },
      used_bytes: { value: String(usage.bytes) }, inodes_used: { value: String(usage.inodes) },
    }],
  };
}
