// Image names -> manifest descriptors, with a little metadata per name, under <root>/images: one small JSON file
// per name, called by the SHA-256 of the name (a valid name is up to 255 characters of repository and 128 of tag,
// more than a file name may hold; the record keeps the name itself). Each file is written atomically (temp,
// fsync, rename, then the directory synced), so a crash leaves every name either as it was or as it became, never
// half written. Files that do not parse (a disk that lied) are skipped by list() and named by get().
//
// Every change of names also rewrites <root>/content/index.json (the OCI image layout's index, one entry per name
// with org.opencontainers.image.ref.name), so skopeo and umoci read the store as a layout: `oci:<root>/content:NAME`.
// Changes hold one lock for the whole store, so two processes naming images at once cannot write an index that
// misses the other's name.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, writeFileAtomic } from '../common/atomic-write.js';
import { SkiffError } from '../common/errors.js';
import { withLock } from '../common/lock.js';
import type { Descriptor } from './content-store.js';
import { MEDIA_TYPES } from './media-types.js';
import { parseReference } from './reference.js';
import { byCodeUnits } from '../common/compare.js';

export interface ImageRecord {
  /** The full, normalised reference: docker.io/library/busybox:latest. */
  name: string;
  /** The manifest (or index) the name points at. */
  target: Descriptor;
  /** When the name was first given (kept while it points at the same target). */
  created: string;
  /** When the name was last set (a pull, tag or load). */
  updated?: string;
  /** Where the image came from (a tag keeps its image's). */
  source?: ImageSource;
  /** The platform chosen from an index, as os/arch[/variant]. */
  platform?: string;
}

/**
 * Where an image came from: the reference pulled from a registry, or the archive (or layout directory) loaded.
 * Only a registry source names a repository, one that can lend the image's blobs to a push there.
 */
export type ImageSource = { kind: 'registry'; reference: string } | { kind: 'archive'; path: string };

export interface ImageMetadata {
  source?: ImageSource;
  platform?: string;
}

/** image-spec annotations.md: the name of a manifest in an image layout's index.json. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

const RECORD_FILE = /^[a-f0-9]{64}\.json$/;
/** How long a name change waits for another one (each is a few small writes). */
const LOCK_WAIT_MS = 60_000;

export class ImageStore {
  readonly dir: string;
  private readonly layoutDir: string;
  private migration?: Promise<void>;

  constructor(root: string) {
    this.dir = join(root, 'images');
    this.layoutDir = join(root, 'content');
  }

  private file(name: string): string {
    return join(this.dir, `${createHash('sha256').update(name).digest('hex')}.json`);
  }

  /** Points `name` at `target` (replacing what it pointed at). */
  async put(name: string, target: Descriptor, meta: ImageMetadata = {}): Promise<ImageRecord> {
    await this.migrated();
    return this.changing(async () => {
      const now = new Date().toISOString();
      const old = await this.readRecord(this.file(name), name).catch(() => undefined);
      const record: ImageRecord = {
        name, target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
        created: old && old.target.digest === target.digest ? old.created : now, updated: now, ...meta,
      };
      await writeFileAtomic(this.file(name), JSON.stringify(record) + '\n');
      return record;
    });
  }

  async get(name: string): Promise<ImageRecord | undefined> {
    await this.migrated();
    return this.readRecord(this.file(name), name);
  }

  /** Every name, sorted. */
  async list(): Promise<ImageRecord[]> {
    await this.migrated();
    return this.records();
  }

  private async records(): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    for (const f of (await this.files()).filter((x) => RECORD_FILE.test(x))) {
      const r = await this.readRecord(join(this.dir, f)).catch(() => undefined);
      if (r) out.push(r);
    }
    return out.sort((a, b) => byCodeUnits(a.name, b.name));
  }

  async delete(name: string): Promise<boolean> {
    await this.migrated();
    return this.changing(async () => {
      const existed = (await this.readRecord(this.file(name), name).catch(() => true)) !== undefined;
      await rm(this.file(name), { force: true });
      return existed;
    });
  }

  /** Writes content/index.json again from the names (repairs one a crash left behind the names). */
  async writeIndex(): Promise<void> {
    await this.migrated();
    await this.changing(async () => {});
  }

  /** Runs one change of names under the store's lock, then makes it durable and rewrites the layout's index. */
  private async changing<T>(change: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    return withLock(join(this.dir, '.lock'), 'the image store', async () => {
      const result = await change();
      await syncDir(this.dir);
      await this.writeLayoutIndex();
      return result;
    }, LOCK_WAIT_MS);
  }

  private async writeLayoutIndex(): Promise<void> {
    const manifests = (await this.records()).map((r) => ({ ...r.target, annotations: { [REF_NAME_ANNOTATION]: r.name } }));
    await mkdir(this.layoutDir, { recursive: true });
    await writeFileAtomic(join(this.layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }) + '\n');
    await syncDir(this.layoutDir);
  }

  /**
   * Stores written before names were hashed hold one file per URI-encoded name; those records are moved to their
   * hashed names once (under the lock, so a newer record of the same name written meanwhile is not overwritten).
   */
  private migrated(): Promise<void> {
    const legacy = async () => {
      const found: [string, ImageRecord][] = [];
      for (const f of (await this.files()).filter((x) => !x.startsWith('.') && !RECORD_FILE.test(x))) {
        const r = await this.readRecord(join(this.dir, f)).catch(() => undefined);
        if (r && encodeURIComponent(r.name) === f) found.push([f, r]);
      }
      return found;
    };
    this.migration ??= (async () => {
      if ((await legacy()).length === 0) return;
      await this.changing(async () => {
        for (const [f, r] of await legacy()) {
          if (!(await this.readRecord(this.file(r.name)).catch(() => undefined))) await writeFileAtomic(this.file(r.name), JSON.stringify(r) + '\n');
          await rm(join(this.dir, f), { force: true });
        }
      });
    })();
    return this.migration;
  }

  private async files(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private async readRecord(file: string, name?: string): Promise<ImageRecord | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const what = name === undefined ? `image record ${file}` : `image "${name}": its record ${file}`;
    let record: ImageRecord;
    try {
      record = JSON.parse(text) as ImageRecord;
    } catch {
      throw new SkiffError(`${what} is not valid JSON`, 'EINVAL');
    }
    if (typeof record?.name !== 'string' || typeof record.target?.digest !== 'string') throw new SkiffError(`${what} has no name or target`, 'EINVAL');
    if (name !== undefined && record.name !== name) throw new SkiffError(`${what} names "${record.name}"`, 'EINVAL');
    const source = sourceOf(record.source);
    delete record.source;
    return source ? { ...record, source } : record;
  }
}

/**
 * A record's source as this version writes it, or undefined. Records written before sources had a kind hold a
 * string: load wrote the archive's absolute path, pull the reference. A registry source always parses as a
 * reference, so that its readers need not guard against one that does not.
 */
function sourceOf(raw: unknown): ImageSource | undefined {
  const s = raw as Partial<{ kind: string; reference: unknown; path: unknown }> | string | undefined;
  let source: ImageSource | undefined;
  if (typeof s === 'string') source = s.startsWith('/') ? { kind: 'archive', path: s } : { kind: 'registry', reference: s };
  else if (s?.kind === 'archive' && typeof s.path === 'string') source = { kind: 'archive', path: s.path };
  else if (s?.kind === 'registry' && typeof s.reference === 'string') source = { kind: 'registry', reference: s.reference };
  if (source?.kind !== 'registry') return source;
  try {
    parseReference(source.reference);
    return source;
  } catch {
    return undefined;
  }
}
