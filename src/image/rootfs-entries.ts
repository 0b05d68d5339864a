// A root filesystem described as a list of entries, made real in one of two ways: a layer tar whose every byte is
// chosen here (owner 0:0, each mode exactly as given, times at the epoch, entries in list order), so the same list
// always gives the same digest; or files on disk (test bundles). node-tar's own packer reads modes and owners from
// disk, and its `portable` option clears group and other write (1777 would become 1755), so it is not used here:
// only its header encoder is.
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Header } from 'tar';
import { SkiffError } from '../common/errors.js';

/** Paths are relative to the root, "." being the root itself; a hard link names an earlier file entry. */
export type RootfsEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; content: Buffer }
  | { type: 'hardlink'; path: string; mode: number; target: string }
  | { type: 'symlink'; path: string; target: string };

const TAR_TYPES = { dir: 'Directory', file: 'File', hardlink: 'Link', symlink: 'SymbolicLink' } as const;
const BLOCK = 512;
const EPOCH = new Date(0);

/** The entries as an uncompressed tar, in list order. */
export function entriesTar(entries: RootfsEntry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const content = e.type === 'file' ? e.content : Buffer.alloc(0);
    const header = new Header({
      path: e.type === 'dir' ? `${e.path}/` : e.path,
      type: TAR_TYPES[e.type],
      // symlink(7): a symlink's own mode is never used on Linux; 0777 is what lstat(2) reports for one.
      mode: e.type === 'symlink' ? 0o777 : e.mode,
      uid: 0,
      gid: 0,
      size: content.length,
      mtime: EPOCH,
      linkpath: e.type === 'hardlink' || e.type === 'symlink' ? e.target : undefined,
    });
    // encode() answers whether the entry needs a pax header (a long name, a number too large for ustar).
    if (header.encode()) throw new SkiffError(`rootfs entry "${e.path}": does not fit a ustar header`, 'ENAMETOOLONG');
    chunks.push(header.block!, content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
  }
  // The end of the archive: two zero blocks (POSIX pax, "ustar Interchange Format").
  chunks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(chunks);
}

/** Writes the entries under `dir` (empty or absent), each mode set whatever the umask. */
export function writeEntries(dir: string, entries: RootfsEntry[]): void {
  for (const e of entries) {
    const path = join(dir, e.path);
    switch (e.type) {
      case 'dir':
        mkdirSync(path, { recursive: true });
        chmodSync(path, e.mode);
        break;
      case 'file':
        writeFileSync(path, e.content);
        chmodSync(path, e.mode);
        break;
      case 'hardlink':
        linkSync(join(dir, e.target), path);
        break;
      case 'symlink':
        symlinkSync(e.target, path);
        break;
    }
  }
}
