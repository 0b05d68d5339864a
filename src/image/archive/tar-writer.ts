// A tar written member by member straight to a file, each member's bytes streamed from where they are (a blob in
// the content store, a layer being decompressed) instead of staged in a directory first. node-tar encodes the
// headers (ustar, and a pax header for a name ustar cannot hold); its Pack would read members from files only.
import type { FileHandle } from 'node:fs/promises';
import { Header, Pax } from 'tar';
import { SkiffError } from '../../common/errors.js';

const BLOCK = 512;
/** Fixed times and owners: the same image saves to the same bytes. */
const MTIME = new Date(0);

/** A member to write: a directory, or a file whose size is known before its bytes are read. */
export type MemberToWrite =
  | { path: string; directory: true }
  | { path: string; directory?: false; size: number; body: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array> };

/** Writes `members`, in order, as a whole tar. */
export async function writeTar(fh: FileHandle, members: MemberToWrite[], signal?: AbortSignal): Promise<void> {
  const tar = new TarWriter(fh, signal);
  for (const m of members) {
    if (m.directory) await tar.directory(m.path);
    else await tar.file(m.path, m.size, m.body);
  }
  await tar.end();
}

class TarWriter {
  constructor(private readonly fh: FileHandle, private readonly signal?: AbortSignal) {}

  async directory(path: string): Promise<void> {
    await this.header({ path: `${path}/`, type: 'Directory', size: 0, mode: 0o755 });
  }

  /**
   * A regular file of `size` bytes; a body of any other length is an error, not a corrupt archive. The body is
   * opened only once its header is written, where it is read at once (file-chunks.ts says why that matters).
   */
  async file(path: string, size: number, body: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    await this.header({ path, type: 'File', size, mode: 0o644 });
    let written = 0;
    for await (const chunk of body()) {
      this.signal?.throwIfAborted();
      written += chunk.length;
      if (written > size) break;
      await this.write(chunk);
    }
    if (written !== size) throw new SkiffError(`${path}: ${written > size ? 'more than' : `only ${written} of`} the ${size} bytes expected`, 'EIO');
    await this.write(Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK));
  }

  /** The two zero blocks that end an archive. */
  async end(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
  }

  private async header(h: { path: string; type: 'File' | 'Directory'; size: number; mode: number }): Promise<void> {
    const fields = { ...h, mtime: MTIME, uid: 0, gid: 0, uname: '', gname: '' };
    const block = Buffer.alloc(BLOCK);
    if (new Header(fields).encode(block, 0)) await this.write(new Pax({ path: h.path, size: h.size, mtime: MTIME }).encode());
    await this.write(block);
  }

  private async write(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length;) off += (await this.fh.write(data, off)).bytesWritten;
  }
}
