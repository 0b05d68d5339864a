// What the layers below the one being unpacked show at a path, as overlayfs would merge them
// (Documentation/filesystems/overlayfs.rst): the topmost layer with an entry there wins; a whiteout (a character
// device 0/0) or a non-directory at the path or above it hides everything below; an opaque directory
// (trusted.overlay.opaque=y) hides what lower layers have inside it. A layer's tar may leave out the parents of
// its entries, and may write through a lower layer's symlink; containerd applies a layer onto the mounted stack
// of its lowers and so sees both, and this is how skiff sees them without a mount.
import { lstatSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { findXattr } from './find-xattr.js';

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** overlayfs whiteout: a character device 0/0. */
export const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

export interface LowerEntry {
  /** Host path of the entry in the lower layer that shows it. */
  path: string;
  stat: Stats;
}

export class LowerView {
  /** Per lower layer, its opaque directories' host paths: read once, when first needed (one getfattr per layer). */
  private readonly opaque = new Map<string, Set<string>>();

  private readonly lowers: string[];

  /** `lowers`: the layers below, top first. */
  constructor(lowers: string[]) {
    // Absolute, as getfattr names the paths it finds.
    this.lowers = lowers.map((l) => resolve(l));
  }

  /** The entry the merged lower layers show at `parts` (components inside the layer), if any. */
  entry(parts: string[]): LowerEntry | undefined {
    for (const lower of this.lowers) {
      for (let i = 1; i <= parts.length; i++) {
        const path = join(lower, ...parts.slice(0, i));
        const st = lstatOrUndefined(path);
        if (!st) {
          // Not in this layer: the layers below show through, unless a directory of this one on the way is opaque.
          if (this.opaqueOnTheWay(lower, parts.slice(0, i - 1))) return undefined;
          break;
        }
        if (isWhiteout(st)) return undefined;
        if (i === parts.length) return { path, stat: st };
        if (!st.isDirectory()) return undefined;
      }
    }
    return undefined;
  }

  private opaqueOnTheWay(lower: string, dirs: string[]): boolean {
    let set = this.opaque.get(lower);
    if (!set) {
      set = new Set(findXattr(lower, 'trusted.overlay.opaque').keys());
      this.opaque.set(lower, set);
    }
    if (set.size === 0) return false;
    for (let i = 1; i <= dirs.length; i++) if (set.has(join(lower, ...dirs.slice(0, i)))) return true;
    return false;
  }
}
