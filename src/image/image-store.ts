// Image names -> manifest descriptors, one small file per name written atomically, so a crash leaves every
// reference either as it was or as it became.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { Descriptor } from './content-store.js';

export interface ImageRecord {
  name: string;
  target: Descriptor;
  created: string;
}

export class ImageStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'images');
  }

  private file(name: string): string {
    return join(this.dir, encodeURIComponent(name));
  }

  async put(name: string, target: Descriptor): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(name), JSON.stringify({ name, target, created: new Date().toISOString() }));
  }

  async get(name: string): Promise<ImageRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.file(name), 'utf8')) as ImageRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(): Promise<ImageRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ImageRecord[] = [];
    for (const n of names.filter((x) => !x.startsWith('.'))) {
      const r = await this.get(decodeURIComponent(n));
      if (r) out.push(r);
    }
    return out;
  }

  async delete(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }
}
