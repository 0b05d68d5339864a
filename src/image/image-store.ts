// Image names -> manifest descriptors, with a little metadata per name, under <root>/images: one small JSON file
// per name, written atomically (temp, fsync, rename, then the directory synced), so a crash leaves every name
// either as it was or as it became, never half written. Files that do not parse (a disk that lied) are skipped
// by list() and named by get().
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { SkiffError } from '../common/errors.js';
import type { Descriptor } from './content-store.js';

export interface ImageRecord {
  /** The full, normalised reference: docker.io/library/busybox:latest. */
  name: string;
  /** The manifest (or index) the name points at. */
  target: Descriptor;
  /** When the name was first given (kept while it points at the same target). */
  created: string;
  /** When the name was last set (a pull, tag or load). */
  updated?: string;
  /** Where the image came from: the reference pulled, the archive loaded, the image tagged. */
  source?: string;
  /** The platform chosen from an index, as os/arch[/variant]. */
  platform?: string;
}

export interface ImageMetadata {
  source?: string;
  platform?: string;
}

export class ImageStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'images');
  }

  private file(name: string): string {
    return join(this.dir, encodeURIComponent(name));
  }

  /** Points `name` at `target` (replacing what it pointed at). */
  async put(name: string, target: Descriptor, meta: ImageMetadata = {}): Promise<ImageRecord> {
    await mkdir(this.dir, { recursive: true });
    const now = new Date().toISOString();
    const old = await this.get(name).catch(() => undefined);
    const record: ImageRecord = {
      name, target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
      created: old && old.target.digest === target.digest ? old.created : now, updated: now, ...meta,
    };
    await writeFileAtomic(this.file(name), JSON.stringify(record) + '\n');
    await this.syncDir();
    return record;
  }

  async get(name: string): Promise<ImageRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as ImageRecord;
    } catch {
      throw new SkiffError(`image "${name}": its record ${this.file(name)} is not valid JSON`, 'EINVAL');
    }
  }

  /** Every name, sorted. */
  async list(): Promise<ImageRecord[]> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ImageRecord[] = [];
    // Names starting with '.' are writeFileAtomic's temporary files.
    for (const f of files.filter((x) => !x.startsWith('.'))) {
      const r = await this.get(decodeURIComponent(f)).catch(() => undefined);
      if (r) out.push(r);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The names pointing at a manifest digest. */
  async namesOf(digest: string): Promise<string[]> {
    return (await this.list()).filter((r) => r.target.digest === digest).map((r) => r.name);
  }

  async delete(name: string): Promise<boolean> {
    const existed = (await this.get(name).catch(() => true)) !== undefined;
    await rm(this.file(name), { force: true });
    await this.syncDir().catch(() => {});
    return existed;
  }

  private async syncDir(): Promise<void> {
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
