// Extended attributes of tar entries. They travel in PAX extended headers as SCHILY.xattr.NAME=VALUE records
// (GNU tar, Go's archive/tar, docker) or LIBARCHIVE.xattr.NAME=base64 (bsdtar), and their values are raw bytes
// (security.capability is a binary struct). node-tar keeps neither: it drops unknown PAX keys and decodes the
// header as UTF-8. So this pass-through stream watches the tar's block structure (headers decoded by node-tar's
// own Header) and keeps, for each file-system entry in order, the xattrs its PAX header carried.
import { Transform, type TransformCallback } from 'node:stream';
import { Header } from 'tar';
import { SkiffError } from '../../common/errors.js';

export type Xattrs = Map<string, Buffer>;

const BLOCK = 512;
/** Entry types that are file-system objects (node-tar's types.normalFsTypes); every other type is metadata. */
const FS_TYPES = new Set(['0', '', '1', '2', '3', '4', '5', '6', '7', 'D']);

interface PaxRecords {
  xattrs: Xattrs;
  size?: number;
}

/** Parses the records of one PAX header body (POSIX pax "extended header": "LEN KEY=VALUE\n"), bytes kept. */
export function parsePaxRecords(body: Buffer): PaxRecords {
  const out: PaxRecords = { xattrs: new Map() };
  let off = 0;
  while (off < body.length && body[off] !== 0) {
    const space = body.indexOf(0x20, off);
    const len = Number(body.toString('latin1', off, space));
    if (space < 0 || !Number.isInteger(len) || len <= space - off || off + len > body.length) {
      throw new SkiffError(`malformed PAX extended header at byte ${off}`, 'EINVAL');
    }
    const record = body.subarray(space + 1, off + len - 1);
    const eq = record.indexOf(0x3d);
    const key = record.toString('utf8', 0, eq);
    const value = record.subarray(eq + 1);
    if (key.startsWith('SCHILY.xattr.')) out.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
    else if (key.startsWith('LIBARCHIVE.xattr.')) {
      out.xattrs.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value.toString('latin1'), 'base64'));
    } else if (key === 'size') out.size = Number(value.toString('latin1'));
    off += len;
  }
  return out;
}

/** Pass-through: the bytes go on unchanged; `next()` hands out each file-system entry's xattrs in tar order. */
export class XattrReader extends Transform {
  private buffered = Buffer.alloc(0);
  /** Bytes of the current entry's body still to pass (padded to whole blocks). */
  private skip = 0;
  /** Set while the body being passed is a PAX header whose records we keep. */
  private pax?: { body: Buffer[]; size: number; global: boolean };
  private pending?: PaxRecords;
  private readonly queue: Xattrs[] = [];
  private done = false;

  next(): Xattrs {
    return this.queue.shift() ?? new Map();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.scan(chunk);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, chunk);
  }

  private scan(chunk: Buffer): void {
    let data = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (!this.done && data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        if (this.pax) this.pax.body.push(data.subarray(0, n));
        this.skip -= n;
        data = data.subarray(n);
        if (this.skip === 0 && this.pax) this.endPax();
        continue;
      }
      if (data.length < BLOCK) break;
      this.header(data.subarray(0, BLOCK));
      data = data.subarray(BLOCK);
    }
    this.buffered = this.done ? Buffer.alloc(0) : Buffer.from(data);
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) return;
    const h = new Header(block);
    // A broken header: node-tar reports it (strict mode makes that an error); nothing more to read here.
    if (!h.cksumValid) {
      this.done = true;
      return;
    }
    const type = h.typeKey as string;
    const size = FS_TYPES.has(type) && this.pending?.size !== undefined ? this.pending.size : h.size ?? 0;
    this.skip = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'g') {
      this.pax = { body: [], size, global: type === 'g' };
      if (this.skip === 0) this.endPax();
    } else if (FS_TYPES.has(type)) {
      this.queue.push(this.pending?.xattrs ?? new Map());
      this.pending = undefined;
    }
  }

  private endPax(): void {
    const { body, size, global } = this.pax!;
    this.pax = undefined;
    // Global headers (type g) set defaults for the whole archive; layers do not use them for xattrs.
    if (global) return;
    this.pending = parsePaxRecords(Buffer.concat(body).subarray(0, size));
  }
}
