// A tree of an FsView as a tar stream, the way docker's cp sends one (moby pkg/archive TarResourceRebase): the
// top entry under the name the copy is to have, then everything below it, owners and modes and times as they are,
// symlinks as symlinks (never followed), a file seen again under another name as a hard link. Each path is looked
// up through the view, so a volume or bind mount inside the tree is read from its own host directory.
import { closeSync, constants, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { Header, Pax } from 'tar';
import { SkiffError } from '../common/errors.js';
import { statIn, type FsView } from './fs-view.js';

const BLOCK = 512;
const CHUNK = 1 << 20;

type EntryType = 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';

interface PackedHeader {
  path: string;
  type: EntryType;
  stat: Stats;
  size?: number;
  linkpath?: string;
}

function encodeHeader(h: PackedHeader): Buffer[] {
  const st = h.stat;
  const fields = {
    path: h.path, type: h.type, size: h.size ?? 0, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime,
    linkpath: h.linkpath, uname: '', gname: '',
    // makedev(3)'s glibc encoding of a dev_t.
    devmaj: (st.rdev >>> 8) & 0xfff, devmin: (st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00),
  };
  const block = Buffer.alloc(BLOCK);
  // ustar has room for 100+155 bytes of name and 100 of link target: longer ones go in a pax header first.
  if (!new Header(fields).encode(block, 0)) return [block];
  return [new Pax({ path: h.path, linkpath: h.linkpath, size: fields.size, mtime: st.mtime, uid: st.uid, gid: st.gid }).encode(), block];
}

function typeOf(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'File';
  if (st.isDirectory()) return 'Directory';
  if (st.isSymbolicLink()) return 'SymbolicLink';
  if (st.isCharacterDevice()) return 'CharacterDevice';
  if (st.isBlockDevice()) return 'BlockDevice';
  if (st.isFIFO()) return 'FIFO';
  return undefined; // a socket: tar has no type for it (docker skips them too)
}

export interface PackOptions {
  /** Adds each regular file's size as it is packed (docker's "Successfully copied" counts these). */
  onContent?: (bytes: number) => void;
  /** What cannot be put in a tar (a socket) is named here and left out. */
  warn: (message: string) => void;
}

/** The tar of `parts` in `view` under `name` ("." packs a directory's contents only, as "./..."). */
export async function* packTree(view: FsView, parts: string[], name: string, o: PackOptions): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  async function* entry(at: string[], path: string): AsyncGenerator<Buffer> {
    const host = view.hostOf(at);
    const st = statIn(view, at);
    if (!st) throw new SkiffError(`${view.show(`/${at.join('/')}`)} disappeared while it was being copied`, 'ENOENT');
    const type = typeOf(st);
    if (!type) {
      o.warn(`${view.show(`/${at.join('/')}`)} is a socket: not copied`);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    const first = type !== 'Directory' && st.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      yield* encodeHeader({ path, type: 'Link', stat: st, linkpath: first });
      return;
    }
    if (type !== 'Directory' && st.nlink > 1) links.set(key, path);
    switch (type) {
      case 'Directory': {
        yield* encodeHeader({ path: `${path}/`, type, stat: st });
        const children = new Set([...readdirSync(host), ...view.mountsIn(at)]);
        for (const c of [...children].sort()) yield* entry([...at, c], path === '.' ? `./${c}` : `${path}/${c}`);
        return;
      }
      case 'SymbolicLink':
        yield* encodeHeader({ path, type, stat: st, linkpath: readlinkSync(host) });
        return;
      case 'File':
        yield* encodeHeader({ path, type, stat: st, size: st.size });
        yield* fileBody(view, at, host, st.size);
        o.onContent?.(st.size);
        return;
      default:
        yield* encodeHeader({ path, type, stat: st });
    }
  }
  view.checkReachable(parts);
  yield* entry(parts, name);
  yield Buffer.alloc(2 * BLOCK);
}

/**
 * Exactly `size` bytes of the file (its size in the header already written), then the padding to a block. Read
 * synchronously: most files are small, and a promise per read costs more than the read.
 */
function* fileBody(view: FsView, at: string[], host: string, size: number): Generator<Buffer> {
  // O_NOFOLLOW: what was a file when we looked is never opened as a symlink's target.
  const fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, CHUNK));
      const n = readSync(fd, buf, 0, buf.length, size - left);
      if (n === 0) throw new SkiffError(`${view.show(`/${at.join('/')}`)} shrank while it was being copied`, 'EIO');
      left -= n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (pad) yield Buffer.alloc(pad);
}
