// Reads a layer's tar stream in one pass, fed chunk by chunk: POSIX ustar headers, pax extended headers (local and
// global), GNU long names and long link names, base-256 numbers. It exists beside node-tar (which skiff uses to
// write archives) because a layer needs what node-tar's parser drops: xattr values as raw bytes (security.capability
// is a binary struct, node-tar decodes PAX records as UTF-8 and keeps no xattr keys), and because decoding 25,000
// headers with node-tar's Header took ~5 us each, a quarter of a large pull's main-thread time.
// Formats: "pax - portable archive interchange", POSIX.1-2008 (ustar Interchange Format, pax Header Block,
// pax Extended Header); GNU tar manual, "Basic Tar Format".
import { SkiffError } from '../../common/errors.js';

export type Xattrs = Map<string, Buffer>;

export type TarEntryType = 'File' | 'Link' | 'SymbolicLink' | 'CharacterDevice' | 'BlockDevice' | 'Directory' | 'FIFO';

/** One file-system entry of the archive, its pax and GNU extensions applied. */
export interface TarHeader {
  path: string;
  type: TarEntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  atime?: Date;
  linkpath?: string;
  devmaj: number;
  devmin: number;
}

/** Where a regular file's content goes, then `end()`; `abandon()` if the archive fails half way through it. */
export interface TarSink {
  write(chunk: Buffer): void;
  end(): void;
  abandon(): void;
}

/** Called for each entry in archive order; returns the sink for a regular file's content (undefined: skipped). */
export type OnTarEntry = (header: TarHeader, xattrs: Xattrs) => TarSink | undefined;

const BLOCK = 512;
/** Extended headers larger than this are refused (node-tar's limit too): no honest archive comes close. */
const MAX_META = 1 << 20;

const TYPES: Record<string, TarEntryType> = {
  '0': 'File', '\0': 'File', '7': 'File', '1': 'Link', '2': 'SymbolicLink', '3': 'CharacterDevice',
  '4': 'BlockDevice', '5': 'Directory', '6': 'FIFO',
  // GNU dumpdir: a directory whose body lists the names it held, for incremental backups; the list is skipped.
  D: 'Directory',
};
/** pax: "no data logical records are stored" for links, special files and directories, whatever size says. */
const HEADER_ONLY: ReadonlySet<TarEntryType> = new Set(['Link', 'SymbolicLink', 'CharacterDevice', 'BlockDevice', 'Directory', 'FIFO']);
const NAMES_OF_TYPES: Record<string, string> = {
  S: 'a GNU sparse file', M: 'a GNU multi-volume continuation', V: 'a GNU volume label', N: 'a GNU old long name',
};

/** The bytes of a NUL-terminated field. */
function field(block: Buffer, off: number, len: number): Buffer {
  const end = block.indexOf(0, off);
  return block.subarray(off, end < 0 || end > off + len ? off + len : end);
}

/**
 * A numeric field: octal digits (leading spaces allowed, ended by a space or NUL), or base-256 if the top bit is
 * set. A field left empty (all NULs, as node-tar writes an owner it was not given) is 0, as Go's archive/tar reads it.
 */
function numeric(block: Buffer, off: number, len: number): number | undefined {
  if (block[off] & 0x80) {
    // GNU base-256: big-endian two's complement, 0x80 marking a positive number and 0xff a negative one.
    const negative = block[off] === 0xff;
    let value = negative ? -1 : block[off] & 0x7f;
    for (let i = off + 1; i < off + len; i++) value = value * 256 + block[i];
    return Number.isSafeInteger(value) ? value : undefined;
  }
  let i = off;
  const end = off + len;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  for (; i < end; i++) {
    const c = block[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return undefined;
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/** The header checksum: every byte summed with the checksum field read as spaces (unsigned, or signed as old tars did). */
function checksumMatches(block: Buffer): boolean {
  const stored = numeric(block, 148, 8);
  let unsigned = 8 * 0x20, signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += block[i];
    signed += block[i] < 128 ? block[i] : block[i] - 256;
  }
  return stored === unsigned || stored === signed;
}

const isZeroBlock = (block: Buffer) => {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
};

/** What pax records may set on the entries they apply to; xattrs keep their raw bytes. */
interface PaxValues {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  atime?: Date;
  devmaj?: number;
  devmin?: number;
  xattrs: Xattrs;
}

const paxTime = (v: string, key: string): Date => {
  const seconds = Number(v);
  if (!Number.isFinite(seconds)) throw new SkiffError(`PAX record ${key}="${v}" is not a time`, 'EINVAL');
  return new Date(seconds * 1000);
};

const paxInteger = (v: string, key: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new SkiffError(`PAX record ${key}="${v}" is not a non-negative integer`, 'EINVAL');
  return n;
};

/** Parses the records of a pax extended header body ("LEN KEY=VALUE\n" each), values kept as bytes where they are bytes. */
export function parsePaxRecords(body: Buffer, into: PaxValues = { xattrs: new Map() }): PaxValues {
  let off = 0;
  while (off < body.length && body[off] !== 0) {
    const space = body.indexOf(0x20, off);
    const len = Number(body.toString('latin1', off, space));
    if (space < 0 || !Number.isInteger(len) || len <= space - off || off + len > body.length || body[off + len - 1] !== 0x0a) {
      throw new SkiffError(`malformed PAX extended header at byte ${off}`, 'EINVAL');
    }
    const record = body.subarray(space + 1, off + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new SkiffError(`malformed PAX extended header at byte ${off}: no "=" in the record`, 'EINVAL');
    const key = record.toString('utf8', 0, eq);
    const raw = record.subarray(eq + 1);
    const value = () => raw.toString('utf8');
    if (key.startsWith('SCHILY.xattr.')) into.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(raw));
    else if (key.startsWith('LIBARCHIVE.xattr.')) {
      into.xattrs.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(raw.toString('latin1'), 'base64'));
    } else if (key.startsWith('GNU.sparse.')) {
      throw new SkiffError('GNU sparse files (PAX GNU.sparse records) are not supported in a layer', 'ENOTSUP');
    } else {
      switch (key) {
        case 'path': into.path = value(); break;
        case 'linkpath': into.linkpath = value(); break;
        case 'size': into.size = paxInteger(value(), key); break;
        case 'uid': into.uid = paxInteger(value(), key); break;
        case 'gid': into.gid = paxInteger(value(), key); break;
        case 'mtime': into.mtime = paxTime(value(), key); break;
        case 'atime': into.atime = paxTime(value(), key); break;
        case 'SCHILY.devmajor': into.devmaj = paxInteger(value(), key); break;
        case 'SCHILY.devminor': into.devmin = paxInteger(value(), key); break;
        // uname, gname, ctime, comment, charset, hdrcharset: owners are numeric in a layer, as containerd reads them.
      }
    }
    off += len;
  }
  return into;
}

type State =
  | { kind: 'header' }
  | { kind: 'body'; left: number; pad: number; sink?: TarSink }
  | { kind: 'meta'; type: string; left: number; pad: number; chunks: Buffer[]; size: number }
  | { kind: 'skip'; left: number }
  | { kind: 'done' };

/** Feed it the uncompressed tar with `push`, then `end()`; every problem is thrown as one error naming the entry. */
export class TarReader {
  private state: State = { kind: 'header' };
  /** Bytes of a header split across chunks. */
  private partial: Buffer | undefined;
  private global: Pick<PaxValues, 'uid' | 'gid' | 'mtime' | 'atime'> = {};
  private local: PaxValues | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private offset = 0;
  /** The entry being read, or the last one read: for errors. */
  current: string | undefined;

  constructor(private readonly onEntry: OnTarEntry) {}

  push(chunk: Buffer): void {
    let at = 0;
    if (this.partial) {
      const need = BLOCK - this.partial.length;
      if (chunk.length < need) {
        this.partial = Buffer.concat([this.partial, chunk]);
        return;
      }
      const block = Buffer.concat([this.partial, chunk.subarray(0, need)]);
      this.partial = undefined;
      at = need;
      this.header(block);
    }
    while (at < chunk.length) {
      const s = this.state;
      switch (s.kind) {
        case 'done':
          return;
        case 'header': {
          if (chunk.length - at < BLOCK) {
            this.partial = Buffer.from(chunk.subarray(at));
            return;
          }
          this.header(chunk.subarray(at, at + BLOCK));
          at += BLOCK;
          break;
        }
        case 'body': {
          if (s.left > 0) {
            const n = Math.min(s.left, chunk.length - at);
            s.sink?.write(chunk.subarray(at, at + n));
            s.left -= n;
            at += n;
            if (s.left > 0) break;
            const sink = s.sink;
            s.sink = undefined;
            sink?.end();
          }
          const p = Math.min(s.pad, chunk.length - at);
          s.pad -= p;
          at += p;
          if (s.pad === 0) this.state = { kind: 'header' };
          break;
        }
        case 'meta': {
          const n = Math.min(s.left, chunk.length - at);
          if (s.left > s.pad) s.chunks.push(chunk.subarray(at, at + Math.min(n, s.left - s.pad)));
          s.left -= n;
          at += n;
          if (s.left === 0) this.endMeta(s.type, Buffer.concat(s.chunks).subarray(0, s.size));
          break;
        }
        case 'skip': {
          const n = Math.min(s.left, chunk.length - at);
          s.left -= n;
          at += n;
          if (s.left === 0) this.state = { kind: 'header' };
          break;
        }
      }
    }
  }

  /** The archive is over: it must not stop inside an entry. */
  end(): void {
    const s = this.state;
    if (this.partial || (s.kind !== 'header' && s.kind !== 'done') || this.local || this.longName !== undefined || this.longLink !== undefined) {
      throw new SkiffError(`${this.current ? `entry "${this.current}": ` : ''}the archive ends in the middle of an entry (truncated)`, 'EINVAL');
    }
  }

  /** After a failure: the open file, if any, is closed. */
  abandon(): void {
    const s = this.state;
    if (s.kind === 'body' && s.sink) s.sink.abandon();
    this.state = { kind: 'done' };
  }

  private header(block: Buffer): void {
    const at = this.offset;
    this.offset += BLOCK;
    // Two zero blocks end the archive; what follows (padding to the record size) means nothing.
    if (isZeroBlock(block)) {
      this.state = { kind: 'done' };
      return;
    }
    const name = field(block, 0, 100).toString('utf8');
    if (!checksumMatches(block)) {
      throw new SkiffError(`header at byte ${at}${name ? ` ("${name}")` : ''}: checksum does not match: not a tar archive, or a corrupt one`, 'EINVAL');
    }
    const typeflag = String.fromCharCode(block[156]);
    const headerSize = numeric(block, 124, 12);
    if (headerSize === undefined || headerSize < 0) throw new SkiffError(`header at byte ${at} ("${name}"): size is not a number`, 'EINVAL');

    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (headerSize > MAX_META) throw new SkiffError(`header at byte ${at}: an extended header of ${headerSize} bytes (more than ${MAX_META} is refused)`, 'EINVAL');
      const padded = Math.ceil(headerSize / BLOCK) * BLOCK;
      if (headerSize === 0) this.endMeta(typeflag, Buffer.alloc(0));
      else this.state = { kind: 'meta', type: typeflag, left: padded, pad: padded - headerSize, chunks: [], size: headerSize };
      return;
    }
    // A pax size record replaces the header's (which cannot hold more than 8 GiB in octal).
    const size = this.local?.size ?? headerSize;
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    // ustar: magic "ustar\0" and version "00"; GNU tar writes "ustar  \0" and keeps other fields where prefix is.
    const magic = block.toString('latin1', 257, 265);
    const posix = magic === 'ustar\u000000';
    const ustarish = posix || magic === 'ustar  \u0000';
    let path = name;
    if (posix && block[345] !== 0) path = `${field(block, 345, 155).toString('utf8')}/${name}`;
    const pax = this.local;
    path = pax?.path ?? this.longName ?? path;
    const linkpath = pax?.linkpath ?? this.longLink ?? (field(block, 157, 100).toString('utf8') || undefined);
    this.current = path;
    this.local = undefined;
    this.longName = undefined;
    this.longLink = undefined;

    let type = TYPES[typeflag] as TarEntryType | undefined;
    if (!type) {
      const known = NAMES_OF_TYPES[typeflag];
      throw new SkiffError(`entry "${path}": ${known ?? `entry type '${typeflag.replace(/[^\x21-\x7e]/, '?')}'`} is not supported in a layer`, 'ENOTSUP');
    }
    // Before ustar, a directory was a regular-file entry whose name ends in "/".
    if (type === 'File' && (typeflag === '0' || typeflag === '\0') && path.endsWith('/')) type = 'Directory';
    if ((type === 'Link' || type === 'SymbolicLink') && !linkpath) throw new SkiffError(`entry "${path}": a ${type === 'Link' ? 'hard' : 'symbolic'} link without a target`, 'EINVAL');
    if (!path) throw new SkiffError(`header at byte ${at}: an entry without a name`, 'EINVAL');

    const number = (off: number, len: number, what: string): number => {
      const n = numeric(block, off, len);
      if (n === undefined) throw new SkiffError(`entry "${path}": ${what} is not a number`, 'EINVAL');
      return n;
    };
    const header: TarHeader = {
      path,
      type,
      size: HEADER_ONLY.has(type) ? 0 : size,
      mode: number(100, 8, 'mode') & 0o7777,
      uid: pax?.uid ?? this.global.uid ?? number(108, 8, 'uid'),
      gid: pax?.gid ?? this.global.gid ?? number(116, 8, 'gid'),
      mtime: pax?.mtime ?? this.global.mtime ?? new Date(number(136, 12, 'mtime') * 1000),
      atime: pax?.atime ?? this.global.atime,
      linkpath,
      devmaj: pax?.devmaj ?? (ustarish ? numeric(block, 329, 8) : undefined) ?? 0,
      devmin: pax?.devmin ?? (ustarish ? numeric(block, 337, 8) : undefined) ?? 0,
    };
    const xattrs = pax?.xattrs ?? new Map();
    const sink = this.onEntry(header, xattrs);
    if (HEADER_ONLY.has(type)) {
      // A GNU dumpdir's body (the names the directory held) is stepped over; the other types have none.
      this.state = typeflag === 'D' && padded ? { kind: 'skip', left: padded } : { kind: 'header' };
      return;
    }
    if (size === 0) {
      sink?.end();
      return;
    }
    this.state = { kind: 'body', left: size, pad: padded - size, sink };
  }

  private endMeta(type: string, body: Buffer): void {
    this.state = { kind: 'header' };
    switch (type) {
      case 'x':
        this.local = parsePaxRecords(body, this.local ?? { xattrs: new Map() });
        return;
      case 'g': {
        // Global records hold for every entry after them: owners and times (a global path, size or xattr would
        // give every entry the same one, which no layer means).
        const { uid, gid, mtime, atime } = parsePaxRecords(body);
        const was = this.global;
        this.global = { uid: uid ?? was.uid, gid: gid ?? was.gid, mtime: mtime ?? was.mtime, atime: atime ?? was.atime };
        return;
      }
      case 'L':
        this.longName = field(body, 0, body.length).toString('utf8');
        return;
      case 'K':
        this.longLink = field(body, 0, body.length).toString('utf8');
    }
  }
}
