// Content-addressed blobs under <root>/content, laid out as an OCI image layout (blobs/sha256/<hex>). A blob is
// written to <root>/content/ingest first, its size and digest checked, fsynced and renamed into place: a blob is
// visible only whole and correct. A download that stops half way leaves its bytes under ingest/ and the next
// ingest of the same digest continues from there (the caller's source is asked for the rest: an HTTP Range).
// One ingest per digest runs at a time, across processes too (an O_EXCL lock file holding the owner's pid, taken
// over when that process is gone), so two pulls of the same layer download it once.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { withLock } from '../common/lock.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  urls?: string[];
}

/** Where a blob's bytes come from, starting at `offset`; `start` is where the body really starts (0 if the source cannot seek). */
export type BlobSource = (offset: number) => Promise<{ start: number; body: AsyncIterable<Uint8Array> }>;

export interface IngestProgress {
  /** Bytes of the blob now on disk (including what an earlier, interrupted ingest left). */
  done: number;
  total: number;
  /** Bytes found under ingest/ from an interrupted ingest, on the first report. */
  resumedFrom?: number;
}

/** How long an ingest waits for another process ingesting the same digest (a large layer on a slow link). */
const LOCK_WAIT_MS = 60 * 60_000;
const WRITE_BATCH = 1024 * 1024;

const DIGEST = /^sha256:([a-f0-9]{64})$/;

let counter = 0;

export class ContentStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'content');
  }

  path(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', hexOf(digest));
  }

  /** Where an interrupted ingest of `digest` keeps its bytes. */
  partialPath(digest: string): string {
    return join(this.dir, 'ingest', `${hexOf(digest)}.partial`);
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(() => true, () => false);
  }

  /** The size of a stored blob, or undefined if it is not stored. */
  async size(digest: string): Promise<number | undefined> {
    return stat(this.path(digest)).then((s) => s.size, () => undefined);
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SkiffError(`blob ${digest} is not in the content store`, 'ENOENT');
      throw err;
    }
  }

  async readJson<T>(digest: string): Promise<T> {
    const bytes = await this.read(digest);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (err) {
      throw new SkiffError(`blob ${digest}: not JSON: ${(err as Error).message}`, 'EINVAL');
    }
  }

  /** Digests of every stored blob. */
  async list(): Promise<string[]> {
    const names = await readdir(join(this.dir, 'blobs', 'sha256')).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** Re-reads a stored blob and checks it still has its digest (and size, if given). */
  async verify(digest: string, size?: number): Promise<boolean> {
    const hash = createHash('sha256');
    let n = 0;
    try {
      for await (const chunk of createReadStream(this.path(digest))) {
        hash.update(chunk as Buffer);
        n += (chunk as Buffer).length;
      }
    } catch {
      return false;
    }
    return `sha256:${hash.digest('hex')}` === digest && (size === undefined || size === n);
  }

  /** Stores `data`; if `expected` is given, a different digest or size is an error and nothing is kept. */
  async ingest(data: Buffer, mediaType: string, expected?: { digest?: string; size?: number }): Promise<Descriptor> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (expected?.size !== undefined && expected.size !== data.length) {
      throw new SkiffError(`blob ${expected.digest ?? digest}: size ${data.length}, expected ${expected.size}`, 'EINVAL');
    }
    if (expected?.digest !== undefined && expected.digest !== digest) {
      throw new SkiffError(`blob ${expected.digest}: content has digest ${digest}`, 'EINVAL');
    }
    if (!(await this.has(digest))) {
      await this.prepareDirs();
      const tmp = join(this.dir, 'ingest', `${hexOf(digest)}.${process.pid}.${counter++}`);
      try {
        const fh = await open(tmp, 'w', 0o644);
        try {
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, this.path(digest));
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      await this.syncBlobDir();
    }
    return { mediaType, digest, size: data.length };
  }

  /**
   * Stores a blob from `body`, a source read once as it arrives (an archive being loaded): hashed and written
   * under ingest/ chunk by chunk, checked against `expected`, fsynced and renamed into place. A blob already stored
   * under the expected digest is read and checked but not written again. Nothing stays under ingest/ when this
   * fails or `body` throws; a process killed meanwhile leaves `<hex>.<pid>.<n>` as ingest() does, or
   * `stream.<pid>.<n>` when the digest is not known beforehand. Errors start with `what`.
   */
  async ingestStream(body: AsyncIterable<Uint8Array>, expected: { digest?: string; size?: number } = {}, what = `blob ${expected.digest ?? '(stream)'}`): Promise<{ digest: string; size: number }> {
    const hex = expected.digest === undefined ? undefined : hexOf(expected.digest);
    let tmp: string | undefined;
    let fh: FileHandle | undefined;
    if (hex === undefined || !(await this.has(expected.digest!))) {
      await this.prepareDirs();
      tmp = join(this.dir, 'ingest', `${hex ?? 'stream'}.${process.pid}.${counter++}`);
      fh = await open(tmp, 'w', 0o644);
    }
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (expected.size !== undefined && size > expected.size) throw new SkiffError(`${what}: more than the ${expected.size} bytes expected`, 'EINVAL');
        hash.update(chunk);
        for (let off = 0; fh && off < chunk.length;) off += (await fh.write(chunk, off)).bytesWritten;
      }
      if (expected.size !== undefined && size < expected.size) throw new SkiffError(`${what}: truncated: ${size} of ${expected.size} bytes`, 'EINVAL');
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected.digest !== undefined && digest !== expected.digest) throw new SkiffError(`${what}: the content has digest ${digest}`, 'EINVAL');
      if (fh && tmp) {
        await fh.sync();
        await fh.close();
        fh = undefined;
        if (await this.has(digest)) await rm(tmp, { force: true });
        else {
          await rename(tmp, this.path(digest));
          await this.syncBlobDir();
        }
        tmp = undefined;
      }
      return { digest, size };
    } finally {
      await fh?.close().catch(() => {});
      if (tmp) await rm(tmp, { force: true });
    }
  }

  /**
   * Stores the blob `desc` from `source`, continuing an interrupted ingest of the same digest, and returns false
   * if the blob was there already (or another process ingested it meanwhile). A source that ends early leaves its
   * bytes for the next attempt; bytes that make the blob too long or give another digest are thrown away.
   */
  async ingestFrom(desc: Descriptor, source: BlobSource, onProgress?: (p: IngestProgress) => void): Promise<boolean> {
    hexOf(desc.digest);
    if (await this.has(desc.digest)) return false;
    await this.prepareDirs();
    const lock = join(this.dir, 'ingest', `${hexOf(desc.digest)}.lock`);
    return withLock(lock, `blob ${desc.digest}`, async () => {
      if (await this.has(desc.digest)) return false;
      await this.writeFrom(desc, source, onProgress);
      return true;
    }, LOCK_WAIT_MS);
  }

  private async writeFrom(desc: Descriptor, source: BlobSource, onProgress?: (p: IngestProgress) => void): Promise<void> {
    const partial = this.partialPath(desc.digest);
    const what = `blob ${desc.digest}`;
    let { hash, size } = await hashPartial(partial);
    if (size > desc.size) {
      await rm(partial, { force: true });
      ({ hash, size } = { hash: createHash('sha256'), size: 0 });
    }
    onProgress?.({ done: size, total: desc.size, resumedFrom: size });
    const { start, body } = size < desc.size ? await source(size) : { start: size, body: [] as Uint8Array[] };
    if (start !== size) {
      if (start !== 0) throw new SkiffError(`${what}: the source started at byte ${start}, not ${size}`, 'EIO');
      // The source could not start where we stopped (a server without Range support): start over.
      ({ hash, size } = { hash: createHash('sha256'), size: 0 });
    }
    const fh = await open(partial, start === 0 ? 'w' : 'a', 0o644);
    // The network hands over small chunks; they are written in batches of WRITE_BATCH bytes (far fewer write(2)s).
    let batch: Uint8Array[] = [];
    let batched = 0;
    const flush = async () => {
      if (batched === 0) return;
      await fh.writev(batch);
      batch = [];
      batched = 0;
    };
    try {
      for await (const chunk of body) {
        if (size + chunk.length > desc.size) {
          await fh.close().catch(() => {});
          await rm(partial, { force: true });
          throw new SkiffError(`${what}: more than the ${desc.size} bytes its descriptor gives`, 'EINVAL');
        }
        hash.update(chunk);
        batch.push(chunk);
        batched += chunk.length;
        size += chunk.length;
        if (batched >= WRITE_BATCH) await flush();
        onProgress?.({ done: size, total: desc.size });
      }
      await flush();
      await fh.sync();
    } catch (err) {
      // What arrived before the failure is kept for the next attempt to resume from.
      await flush().catch(() => {});
      throw err;
    } finally {
      await fh.close().catch(() => {});
    }
    if (size < desc.size) throw new SkiffError(`${what}: truncated: ${size} of ${desc.size} bytes arrived (kept to resume)`, 'EIO');
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== desc.digest) {
      await rm(partial, { force: true });
      throw new SkiffError(`${what}: the content has digest ${got}`, 'EINVAL');
    }
    await rename(partial, this.path(desc.digest));
    await this.syncBlobDir();
  }

  /** Interrupted ingests: their partial files and sizes (GC removes those no image needs). */
  async partials(): Promise<{ digest: string; path: string }[]> {
    const names = await readdir(join(this.dir, 'ingest')).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}\.partial$/.test(n))
      .map((n) => ({ digest: `sha256:${n.slice(0, 64)}`, path: join(this.dir, 'ingest', n) }));
  }

  private async prepareDirs(): Promise<void> {
    await mkdir(join(this.dir, 'ingest'), { recursive: true });
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    // The image-layout spec's marker file, so tools reading an OCI layout accept the store's blob tree.
    await writeFile(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }), { flag: 'wx' }).catch(() => {});
  }

  /** rename(2) is durable only once the directory holding the new name is synced. */
  private async syncBlobDir(): Promise<void> {
    const dh = await open(join(this.dir, 'blobs', 'sha256'), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

function hexOf(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new SkiffError(`invalid digest "${digest}" (expected sha256: and 64 hex digits)`, 'EINVAL');
  return m[1];
}

/** The hash state and length of what an interrupted ingest left (Node cannot save a hash's state, so re-read it). */
async function hashPartial(path: string): Promise<{ hash: Hash; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { hash: createHash('sha256'), size: 0 };
  }
  return { hash, size };
}
