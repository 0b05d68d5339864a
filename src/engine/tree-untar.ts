// A tar stream written into a directory of an FsView, as docker's cp extracts one (moby pkg/archive Unpack with
// NoOverwriteDirNonDir): a directory merges into one that is there, anything else replaces what is there, but a
// directory never replaces a file nor a file a directory. The archive may be anyone's (`cp - CONTAINER:DIR`), so it
// is read by the hostile-tar-safe reader, a name with ".." is refused (entry-name.ts), and every parent is resolved
// in the view: a symlink the archive or the tree holds is followed inside the tree, never out of it.
import {
  chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync,
  openSync, symlinkSync, unlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { SkiffError } from '../common/errors.js';
import { entryComponents } from '../image/unpack/entry-name.js';
import { resolveInView } from '../image/unpack/in-root.js';
import { NativeSteps, type NodeKind } from '../image/unpack/native-steps.js';
import { TarReader, type TarHeader, type TarSink, type Xattrs } from '../image/unpack/tar-reader.js';
import { makeDirIn, statIn, type FsView } from './fs-view.js';

export interface UntarOptions {
  /** Keep the archive's owners (cp -a); otherwise entries belong to the view's owner. */
  keepOwners: boolean;
}

/** trusted.* xattrs belong to the kernel's own users (overlayfs keeps its state there): no archive may set them. */
const TRUSTED = 'trusted.';

class TreeWriter {
  private readonly dirTimes: { host: string; atime: Date; mtime: Date }[] = [];
  /** Device nodes, fifos and xattrs, which Node cannot make: host paths, resolved already, made at the end. */
  private readonly native = new NativeSteps('/');
  private readonly makeDir;
  /**
   * Resolved parents by their path in the archive: the tree does not change under us (its container is paused or
   * stopped) except by what we write, and only a symlink we make or a file we remove can change a resolution.
   */
  private readonly parents = new Map<string, string[]>();

  constructor(private readonly view: FsView, private readonly dest: string[], private readonly o: UntarOptions) {
    this.makeDir = makeDirIn(view);
  }

  private parentOf(within: string[], what: string): string[] {
    const key = within.slice(0, -1).join('/');
    let dir = this.parents.get(key);
    if (!dir) {
      dir = resolveInView(this.view.hostOf, [...this.dest, ...within.slice(0, -1)], what, this.makeDir, false)!;
      this.parents.set(key, dir);
    }
    return dir;
  }

  private ownerOf(h: TarHeader): { uid: number; gid: number } | undefined {
    return this.o.keepOwners ? { uid: h.uid, gid: h.gid } : this.view.owner;
  }

  private shown(parts: string[]): string {
    return this.view.show(`/${parts.join('/')}`);
  }

  /** Clears the way for a new entry of `type` at `parts`; returns what stays (a directory for a directory). */
  private clear(parts: string[], host: string, type: TarHeader['type']): Stats | undefined {
    const st = statIn(this.view, parts);
    if (!st) return undefined;
    const isDir = type === 'Directory';
    if (st.isDirectory() && !isDir) throw new SkiffError(`${this.shown(parts)}: cannot overwrite a directory with a non-directory`, 'EISDIR');
    if (!st.isDirectory() && isDir) throw new SkiffError(`${this.shown(parts)}: cannot overwrite a non-directory with a directory`, 'ENOTDIR');
    if (isDir || (type === 'File' && this.view.isMountPoint(parts))) return st;
    if (this.view.isMountPoint(parts)) throw new SkiffError(`${this.shown(parts)}: a mount point cannot be replaced by a ${type}`, 'EBUSY');
    unlinkSync(host);
    this.parents.clear();
    return undefined;
  }

  readonly apply = (h: TarHeader, xattrs: Xattrs): TarSink | undefined => {
    const what = `archive entry "${h.path}"`;
    if (h.path.split('/').includes('..')) throw new SkiffError(`${what}: ".." would lead out of the destination`, 'EINVAL');
    const within = entryComponents(h.path, 'archive entry');
    // The entry "./" is the destination directory itself.
    const parts = within.length === 0 ? this.dest : [...this.parentOf(within, what), within[within.length - 1]];
    this.view.checkWritable(parts);
    const host = this.view.hostOf(parts);
    for (const name of xattrs.keys()) if (name.startsWith(TRUSTED)) throw new SkiffError(`${what}: xattr ${name} may not be set by an archive`, 'EPERM');
    const owner = this.ownerOf(h);
    const existing = this.clear(parts, host, h.type);
    switch (h.type) {
      case 'Directory':
        if (!existing) mkdirSync(host, 0o700);
        this.metadata(host, h, owner, xattrs);
        this.dirTimes.push({ host, atime: h.atime ?? h.mtime, mtime: h.mtime });
        return undefined;
      case 'File': {
        // A file mount point (a hosts file, a bind-mounted file) is written in place: replacing it would leave the
        // container looking at the old file. O_NOFOLLOW: never through a symlink.
        const fd = openSync(host, existing ? constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW : 'wx', h.mode & 0o777);
        return {
          write: (chunk) => {
            for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
          },
          end: () => {
            try {
              // chown(2) clears the setuid and setgid bits: owner first, then mode.
              if (owner) fchownSync(fd, owner.uid, owner.gid);
              fchmodSync(fd, h.mode & 0o7777);
              futimesSync(fd, h.atime ?? h.mtime, h.mtime);
            } finally {
              closeSync(fd);
            }
            this.xattrs(host, xattrs, what);
          },
          abandon: () => closeSync(fd),
        };
      }
      case 'SymbolicLink':
        // Stored as written: following it later happens in-root, like every other lookup.
        symlinkSync(h.linkpath!, host);
        this.parents.clear();
        if (owner) lchownSync(host, owner.uid, owner.gid);
        lutimesSync(host, h.atime ?? h.mtime, h.mtime);
        return undefined;
      case 'Link': {
        const target = entryComponents(h.linkpath!, `${what}: hard link target`);
        const dir = resolveInView(this.view.hostOf, [...this.dest, ...target.slice(0, -1)], what, undefined, false);
        const st = dir && target.length ? statIn(this.view, [...dir, target[target.length - 1]]) : undefined;
        if (!st || st.isDirectory()) throw new SkiffError(`${what}: hard link target "${h.linkpath}" is not a file the archive wrote`, 'EINVAL');
        linkSync(this.view.hostOf([...dir!, target[target.length - 1]]), host);
        return undefined;
      }
      default: {
        const kind: NodeKind = h.type === 'CharacterDevice' ? 'c' : h.type === 'BlockDevice' ? 'b' : 'p';
        const o = owner ?? { uid: process.geteuid!(), gid: process.getegid!() };
        this.native.node(host, kind, h.mode, h.devmaj, h.devmin, o.uid, o.gid, h.mtime, what);
        this.xattrs(host, xattrs, what);
        return undefined;
      }
    }
  };

  private metadata(host: string, h: TarHeader, owner: { uid: number; gid: number } | undefined, xattrs: Xattrs): void {
    if (owner) lchownSync(host, owner.uid, owner.gid);
    chmodSync(host, h.mode & 0o7777);
    this.xattrs(host, xattrs, `archive entry "${h.path}"`);
  }

  private xattrs(host: string, xattrs: Xattrs, what: string): void {
    for (const [name, value] of xattrs) this.native.xattr(host, name, value, what);
  }

  /** Nodes and xattrs (after every chown, which clears security.capability), then directory times, deepest first. */
  async finish(): Promise<void> {
    await this.native.run();
    for (const d of this.dirTimes.reverse()) utimesSync(d.host, d.atime, d.mtime);
  }
}

/** Writes the tar `stream` into the directory `dest` of `view`. */
export async function untarInto(view: FsView, dest: string[], stream: AsyncIterable<Buffer>, o: UntarOptions): Promise<void> {
  const writer = new TreeWriter(view, dest, o);
  const reader = new TarReader(writer.apply);
  try {
    for await (const chunk of stream) reader.push(chunk);
    reader.end();
  } catch (err) {
    reader.abandon();
    const entry = reader.current;
    const e = err as SkiffError;
    if (entry && !e.message.includes(`"${entry}"`)) throw new SkiffError(`archive entry "${entry}": ${e.message}`, e.code);
    throw err;
  }
  await writer.finish();
}
