// Applies tar entries to one layer directory, as the image-spec's layer.md describes a changeset, in the form
// overlayfs reads (Documentation/filesystems/overlayfs.rst): a whiteout `.wh.NAME` becomes a character device 0/0
// named NAME, an opaque marker `.wh..wh..opq` becomes the xattr trusted.overlay.opaque=y on its directory.
// Every parent directory is resolved inside the layer (in-root.ts), so no entry can write outside it.
import {
  chmodSync, closeSync, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync,
  openSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';
import { entryComponents } from './entry-name.js';
import { resolveDirInRoot, type MakeDir } from './in-root.js';
import { copyUp } from './lower-link.js';
import { LowerView } from './lower-view.js';
import { NativeSteps, type NodeKind } from './native-steps.js';
import type { TarHeader, TarSink, Xattrs } from './tar-reader.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** S_ISGID on a directory: files created in it take its group, not the creator's (open(2), mkdir(2)). */
const S_ISGID = 0o2000;

/**
 * overlayfs keeps its own state in trusted.overlay.* xattrs of the layers it stacks (overlayfs.rst): a redirect
 * makes a directory show another path of the lower layers (followed by default: CONFIG_OVERLAY_FS_REDIRECT_ALWAYS_FOLLOW),
 * metacopy takes a file's data from elsewhere, origin and impure steer lookups. A layer is a changeset, not an
 * overlay directory, so none of these may come from one; an opaque mark on a directory means what .wh..wh..opq does.
 */
function checkOverlayXattrs(entry: TarHeader, xattrs: Xattrs, what: string): void {
  for (const [name, value] of xattrs) {
    if (!name.startsWith('trusted.overlay.')) continue;
    if (name === 'trusted.overlay.opaque' && entry.type === 'Directory' && value.toString() === 'y') continue;
    throw new SkiffError(`${what}: xattr ${name} is overlayfs's own: a layer may not set it`, 'EINVAL');
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class LayerWriter {
  /** Resolved parent directories by tar path; cleared whenever something that existed is removed. */
  private parents = new Map<string, string>();
  /** Directory times are set last: writing into a directory changes its mtime. */
  private dirTimes: { path: string; atime: Date; mtime: Date }[] = [];
  /** Nodes and xattrs, made by the native helper in finish(). */
  private readonly native: NativeSteps;

  /** What open(2) gives a new file: the caller's owner, the mode asked for less the umask. */
  private readonly creator = { uid: process.geteuid!(), gid: process.getegid!(), umask: process.umask() };
  /**
   * Whether a directory of this layer may be setgid, so that a new file would take its group and not the
   * creator's: only if the layer directory is, or an entry or a copy-up from a lower layer made one.
   */
  private setgidDirs: boolean;

  /** What the layers below show: where a left-out parent or a hard link's target may come from. */
  private readonly lowers: LowerView;

  /** `lowers`: the layers below this one, top first. */
  constructor(readonly dir: string, lowers: string[] = []) {
    this.native = new NativeSteps(dir);
    this.setgidDirs = (lstatSync(dir).mode & S_ISGID) !== 0;
    this.lowers = new LowerView(lowers);
  }

  /**
   * A parent the tar left out, made as the lower layers show it (lower-view.ts): a lower symlink is followed, a
   * lower directory is made again with its owner and mode (not its xattrs: an opaque mark would hide what the
   * lowers hold), and anything else becomes a new directory, 0755.
   */
  private readonly makeParent: MakeDir = (host, inRoot) => {
    const below = this.lowers.entry(inRoot);
    if (below?.stat.isSymbolicLink()) return { follow: readlinkSync(below.path) };
    mkdirSync(host, 0o755);
    if (below?.stat.isDirectory()) {
      lchownSync(host, below.stat.uid, below.stat.gid);
      chmodSync(host, below.stat.mode & 0o7777);
      if ((below.stat.mode & S_ISGID) !== 0) this.setgidDirs = true;
    }
    return undefined;
  };

  /** `hostPath` (under the layer directory) as the native helper sees it: inside the layer, "/" its root. */
  private inLayer(hostPath: string): string {
    return hostPath.slice(this.dir.length) || '/';
  }

  private parentOf(parts: string[], what: string): string {
    const key = parts.slice(0, -1).join('/');
    let dir = this.parents.get(key);
    if (dir === undefined) {
      dir = resolveDirInRoot(this.dir, parts.slice(0, -1), what, this.makeParent)!;
      this.parents.set(key, dir);
    }
    return dir;
  }

  /** Makes room for a new `kind` at `path`: a directory stays for a directory, anything else is removed. */
  private clear(path: string, keepDir: boolean): Stats | undefined {
    const st = lstatOrUndefined(path);
    if (!st || (keepDir && st.isDirectory())) return st;
    rmSync(path, { recursive: true, force: true });
    this.parents.clear();
    return undefined;
  }

  /**
   * Runs `make`, which creates `path` exclusively. The layer directory starts empty, so the path is almost always
   * free: only when it is taken (an earlier entry of this layer, or a parent made implicitly) is it looked at and
   * cleared (a directory kept for a directory), and `make` run again.
   */
  private create(path: string, make: () => void, keepDir: boolean): void {
    try {
      make();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (this.clear(path, keepDir)) return;
      make();
    }
  }

  /** Applies one entry; for a regular file returns the sink its content goes to. */
  apply(entry: TarHeader, xattrs: Xattrs): TarSink | undefined {
    const what = `entry "${entry.path}"`;
    checkOverlayXattrs(entry, xattrs, what);
    const parts = entryComponents(entry.path, 'entry');
    if (parts.length === 0) {
      // "./": the layer root itself; only its metadata can change.
      if (entry.type === 'Directory') this.finishMetadata(this.dir, entry, xattrs, what, true);
      return undefined;
    }
    const name = parts[parts.length - 1];
    const parent = this.parentOf(parts, what);
    if (name === OPAQUE) {
      this.native.xattr(this.inLayer(parent), 'trusted.overlay.opaque', Buffer.from('y'), what);
      return undefined;
    }
    if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) return undefined; // other AUFS metadata (.wh..wh.plnk): nothing for overlay
    if (name.startsWith(WHITEOUT)) {
      const target = join(parent, name.slice(WHITEOUT.length));
      // layer.md: a whiteout hides only what lower layers have; a path this layer itself holds stays.
      if (!lstatOrUndefined(target)) this.native.node(this.inLayer(target), 'c', 0, 0, 0, 0, 0, entry.mtime, what);
      return undefined;
    }
    const path = join(parent, name);
    switch (entry.type) {
      case 'Directory': {
        this.create(path, () => mkdirSync(path, 0o700), true);
        this.finishMetadata(path, entry, xattrs, what, true);
        return undefined;
      }
      case 'File': {
        let fd = -1;
        this.create(path, () => { fd = openSync(path, 'wx', entry.mode & 0o777); }, false);
        return {
          write: (chunk) => {
            for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
          },
          end: () => {
            try {
              this.finishFileMetadata(fd, path, entry, xattrs, what);
            } finally {
              closeSync(fd);
            }
          },
          abandon: () => closeSync(fd),
        };
      }
      case 'SymbolicLink':
        // The target is stored as written: only following it (in-root.ts) could lead anywhere, and that is confined.
        this.create(path, () => symlinkSync(entry.linkpath!, path), false);
        this.finishMetadata(path, entry, xattrs, what, false, true);
        return undefined;
      case 'Link': {
        const targetParts = entryComponents(entry.linkpath!, `${what}: hard link target`);
        if (targetParts.length === 0) throw new SkiffError(`${what}: hard link to the layer root`, 'EINVAL');
        const targetDir = resolveDirInRoot(this.dir, targetParts.slice(0, -1), what, false);
        const target = targetDir === undefined ? undefined : join(targetDir, targetParts[targetParts.length - 1]);
        const st = target === undefined ? undefined : lstatOrUndefined(target);
        if (!st && target !== undefined && this.native.hasNode(this.inLayer(target))) {
          this.clear(path, false);
          this.native.link(this.inLayer(target), this.inLayer(path), what);
          return undefined;
        }
        if (!st) {
          const below = this.lowers.entry(targetParts);
          if (!below?.stat.isFile()) throw new SkiffError(`${what}: hard link target "${entry.linkpath}" is in neither this layer nor a lower one`, 'EINVAL');
          const copy = join(this.parentOf(targetParts, what), targetParts[targetParts.length - 1]);
          copyUp(below.path, copy, what);
          return this.link(copy, path, lstatSync(copy));
        }
        return this.link(target!, path, st, entry.linkpath);
      }
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO': {
        this.clear(path, false);
        const kind: NodeKind = entry.type === 'CharacterDevice' ? 'c' : entry.type === 'BlockDevice' ? 'b' : 'p';
        const at = this.inLayer(path);
        this.native.node(at, kind, entry.mode, entry.devmaj, entry.devmin, entry.uid, entry.gid, entry.mtime, what);
        for (const [name, value] of xattrs) this.native.xattr(at, name, value, what);
        return undefined;
      }
    }
  }

  private link(target: string, path: string, st: Stats, linkpath?: string): undefined {
    if (st.isDirectory()) throw new SkiffError(`hard link to directory "${linkpath ?? target}"`, 'EINVAL');
    if (target === path) return undefined;
    this.clear(path, false);
    linkSync(target, path);
    return undefined;
  }

  // chown(2) clears setuid/setgid bits and security.capability, so the order is: owner, mode, times (xattrs come in finish()).
  private finishMetadata(path: string, e: TarHeader, xattrs: Xattrs, what: string, isDir: boolean, isLink = false): void {
    lchownSync(path, e.uid, e.gid);
    if (!isLink) chmodSync(path, e.mode);
    if (isDir && (e.mode & S_ISGID) !== 0) this.setgidDirs = true;
    for (const [name, value] of xattrs) this.native.xattr(this.inLayer(path), name, value, what);
    const mtime = e.mtime;
    const atime = e.atime ?? mtime;
    if (isDir) this.dirTimes.push({ path, atime, mtime });
    else if (isLink) lutimesSync(path, atime, mtime);
    else utimesSync(path, atime, mtime);
  }

  /**
   * finishMetadata for a regular file still open: the same order, through its descriptor (no path lookups), and
   * owner and mode only where open(2) did not already give the file the right ones (most files of most layers).
   */
  private finishFileMetadata(fd: number, path: string, e: TarHeader, xattrs: Xattrs, what: string): void {
    if (e.uid !== this.creator.uid || e.gid !== this.creator.gid || this.setgidDirs) fchownSync(fd, e.uid, e.gid);
    if ((e.mode & 0o7000) !== 0 || (e.mode & this.creator.umask) !== 0) fchmodSync(fd, e.mode);
    for (const [name, value] of xattrs) this.native.xattr(this.inLayer(path), name, value, what);
    futimesSync(fd, e.atime ?? e.mtime, e.mtime);
  }

  /**
   * Makes the nodes and xattrs (after every owner is set: chown(2) clears security.capability), then the
   * directories' times, deepest first, once nothing more is written into them.
   */
  async finish(): Promise<void> {
    await this.native.run();
    for (const d of this.dirTimes.reverse()) utimesSync(d.path, d.atime, d.mtime);
  }
}
