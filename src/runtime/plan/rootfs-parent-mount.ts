// The mount point that holds the rootfs. Needed only when linux.rootfsPropagation shares / with the host: the
// plan then makes that mount private (pivot_root(2) refuses a shared parent of new_root).
import { readFile, realpath } from 'node:fs/promises';
import { mountContaining, parseMountinfo } from '../../common/mountinfo.js';

/** The deepest mount point that is `rootfs` itself or one of its ancestors (symlinks resolved first). */
export async function rootfsParentMount(rootfs: string, mountinfo?: string): Promise<string> {
  const entries = parseMountinfo(mountinfo ?? await readFile('/proc/self/mountinfo', 'utf8'));
  return mountContaining(await realpath(rootfs), entries)?.mountPoint ?? '/';
}
