// Content-addressed blobs (OCI image layout: blobs/sha256/<hex>). Every ingest is checked (size and digest) while
// it is written to a temporary file, fsynced and renamed into place, so a blob is visible only whole and correct.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

let counter = 0;

export class ContentStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'content');
  }

  path(digest: string): string {
    const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
    if (!m) throw new SkiffError(`invalid digest "${digest}"`, 'EINVAL');
    return join(this.dir, 'blobs', 'sha256', m[1]);
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(() => true, () => false);
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
    return JSON.parse((await this.read(digest)).toString('utf8')) as T;
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
    const final = this.path(digest);
    if (!(await this.has(digest))) {
      const ingest = join(this.dir, 'ingest');
      await mkdir(ingest, { recursive: true });
      await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      const tmp = join(ingest, `${digest.slice(7)}.${process.pid}.${counter++}`);
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(data);
        await fh.sync();
        await fh.close();
        await rename(tmp, final);
      } catch (err) {
        await fh.close().catch(() => {});
        await rm(tmp, { force: true });
        throw err;
      }
    }
    return { mediaType, digest, size: data.length };
  }
}
