// A hard link whose target is in a lower layer. Each layer is its own directory, and link(2) cannot cross into
// another one; overlayfs would copy the target up before linking (as containerd's apply onto a mounted overlay
// does), so do the same: copy the target (content, owner, mode, times, xattrs) into this layer at the same path,
// then link to the copy. Both names then share one inode in this layer, and the merged view is what the image
// author made.
import { spawnSync } from 'node:child_process';
import { SkiffError } from '../../common/errors.js';

/** Copies the lower layer's file `from` to `to` in this layer, keeping all its metadata. */
export function copyUp(from: string, to: string, what: string): void {
  // cp -a keeps owner, mode (setuid too), times and every xattr (security.capability included) in one call.
  const r = spawnSync('cp', ['-a', '--', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new SkiffError(`${what}: copying the hard link target up from a lower layer: ${(r.stderr || r.error?.message || '').trim()}`, 'EIO');
}
