// A hard link whose target is in a lower layer. Each layer is its own directory, and link(2) cannot cross into
// another one; overlayfs would copy the target up before linking (as containerd's apply onto a mounted overlay
// does), so do the same: copy the target (content, owner, mode, times, xattrs) from the topmost lower layer that
// has it into this layer at the same path, then link to the copy. Both names then share one inode in this layer,
// and the merged view is what the image author made.
import { spawnSync } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, mkdirSync, utimesSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** overlayfs whiteout: a character device 0/0 (Documentation/filesystems/overlayfs.rst). */
const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * Finds `parts` in the lowers (top first, plain directories only, stopping at a whiteout of it or of a parent) and
 * copies it into `dir`; false if no lower layer has a regular file there.
 */
export function materializeFromLower(dir: string, lowers: string[], parts: string[], what: string): boolean {
  for (const lower of lowers) {
    let hidden = false;
    let found: Stats | undefined;
    for (let i = 1; i <= parts.length; i++) {
      const st = lstatOrUndefined(join(lower, ...parts.slice(0, i)));
      if (!st) break;
      if (isWhiteout(st)) {
        hidden = true;
        break;
      }
      if (i < parts.length && !st.isDirectory()) break;
      if (i === parts.length) found = st;
    }
    if (hidden) return false;
    if (!found) continue;
    if (!found.isFile()) return false;
    // Parents missing in this layer take the lower layer's owner, mode and times, so the merged view keeps them.
    for (let i = 1; i < parts.length; i++) {
      const here = join(dir, ...parts.slice(0, i));
      const st = lstatOrUndefined(here);
      if (st?.isDirectory()) continue;
      if (st) throw new SkiffError(`${what}: /${parts.slice(0, i).join('/')} is not a directory in this layer`, 'ENOTDIR');
      const src = lstatSync(join(lower, ...parts.slice(0, i)));
      mkdirSync(here);
      lchownSync(here, src.uid, src.gid);
      chmodSync(here, src.mode & 0o7777);
      utimesSync(here, src.atime, src.mtime);
    }
    // cp -a keeps owner, mode (setuid too), times and every xattr (security.capability included) in one call.
    const r = spawnSync('cp', ['-a', '--', join(lower, ...parts), join(dir, ...parts)], { encoding: 'utf8' });
    if (r.status !== 0) throw new SkiffError(`${what}: copying the hard link target up from a lower layer: ${(r.stderr || r.error?.message || '').trim()}`, 'EIO');
    return true;
  }
  return false;
}
