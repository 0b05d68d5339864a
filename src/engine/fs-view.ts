// A file tree that `cp` reads from or writes into: the host's, or a container's (container-fs.ts: its rootfs with
// its volumes, bind mounts and hosts files at their mount points). Paths are components inside the tree's root, and
// every lookup goes through resolveInView, so a symlink in the tree is followed inside it and never leads out.
import { lchownSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { resolveInView, type HostPathOf, type MakeDir } from '../image/unpack/in-root.js';

export interface FsView {
  /** A path of the tree as messages show it: `web:/etc/hosts` in a container, the path itself on the host. */
  show(path: string): string;
  readonly hostOf: HostPathOf;
  /** The mount points directly inside the directory `dir`, which its host directory may not show. */
  mountsIn(dir: string[]): string[];
  /** Whether `parts` is a mount point: written in place, never replaced or removed. */
  isMountPoint(parts: string[]): boolean;
  /** Throws if `parts` cannot be reached (a tmpfs: its files are in the container's memory, not on disk). */
  checkReachable(parts: string[]): void;
  /** Throws if `parts` may not be written (a read-only rootfs or mount), or cannot be reached. */
  checkWritable(parts: string[]): void;
  /** The owner of what is written unless the archive's owners are kept (-a); undefined: the copying process. */
  readonly owner?: { uid: number; gid: number };
}

/** The host's own tree: ordinary path resolution, as the user's own `cp` would do it. */
export const hostView: FsView = {
  show: (path) => path,
  hostOf: (parts) => join('/', ...parts),
  mountsIn: () => [],
  isMountPoint: () => false,
  checkReachable: () => {},
  checkWritable: () => {},
};

/**
 * A path as docker's cp reads it (moby archive.PreserveTrailingDotOrSeparator, container.ResolvePath): cleaned
 * lexically ("a/../b" is "b", as filepath.Join makes it), relative to the root; a trailing "/" says it must be a
 * directory, a trailing "/." asks for a directory's contents rather than the directory.
 */
export interface CpPath {
  /** The cleaned path, absolute, as it is shown in messages (a trailing "/" or "/." kept). */
  shown: string;
  /** The components up to the last one. */
  dir: string[];
  /** The last component; undefined for the root and for a path ending in "/" or "/.". */
  base: string | undefined;
  assertsDir: boolean;
  contentOnly: boolean;
}

export function parseCpPath(path: string): CpPath {
  const contentOnly = path === '.' || path.endsWith('/.');
  const assertsDir = contentOnly || path.endsWith('/');
  const clean = posix.normalize(`/${path}`).replace(/\/+$/, '');
  const parts = clean.split('/').filter(Boolean);
  const base = assertsDir ? undefined : parts.pop();
  const shown = `${clean}${contentOnly ? '/.' : assertsDir ? '/' : ''}` || '/';
  return { shown, dir: parts, base, assertsDir, contentOnly };
}

export interface Located {
  /** Where the path resolves inside the view (no symlink left but, without followLast, the last component). */
  parts: string[];
  /** Its lstat(2); undefined if nothing is there. */
  stat: Stats | undefined;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

export function statIn(view: FsView, parts: string[]): Stats | undefined {
  return lstatOrUndefined(view.hostOf(parts));
}

/**
 * Resolves `p` in `view`: every directory on the way followed in-root; the last component too if `followLast` or
 * the path asserts a directory. undefined when a directory on the way is missing.
 */
export function locate(view: FsView, p: CpPath, followLast: boolean): Located | undefined {
  const what = view.show(p.shown);
  const dir = resolveInView(view.hostOf, p.dir, what, undefined, false);
  if (!dir) return undefined;
  if (p.base === undefined) return { parts: dir, stat: statIn(view, dir) };
  if (!followLast) return { parts: [...dir, p.base], stat: statIn(view, [...dir, p.base]) };
  const parts = resolveInView(view.hostOf, [...dir, p.base], what, undefined, true);
  return parts ? { parts, stat: statIn(view, parts) } : { parts: [...dir, p.base], stat: undefined };
}

/** Makes a missing directory while an archive is written into `view`, owned as the view's new entries are. */
export function makeDirIn(view: FsView): MakeDir {
  return (host, inRoot) => {
    view.checkWritable(inRoot);
    mkdirSync(host, 0o755);
    if (view.owner) lchownSync(host, view.owner.uid, view.owner.gid);
    return undefined;
  };
}
