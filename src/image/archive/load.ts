// skiff load: an OCI layout directory, an oci-archive or a docker-archive (plain or gzipped tar), told apart by
// what they hold. An archive is read once, each blob going into the content store as it is read (size and digest
// checked, layers decompressed and hashed on the way); then every image is checked against its documents, and
// only then are names written, so a bad or truncated archive leaves no image behind (blobs no name needs are
// garbage collection's).
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SkiffError } from '../../common/errors.js';
import { ContentStore } from '../content-store.js';
import { ImageStore, type ImageRecord } from '../image-store.js';
import { withLease } from '../lease.js';
import { formatPlatform, normalizePlatform, type Platform } from '../platform.js';
import { formatReference, parseReference } from '../reference.js';
import { directoryMembers } from './directory-members.js';
import { readDockerArchive } from './docker-archive-read.js';
import type { ImageToName } from './image-set.js';
import type { ArchiveMembers } from './members.js';
import { readOciLayout } from './oci-layout-read.js';
import { systemCause } from './system-error.js';
import { readTarMembers } from './tar-members.js';

export interface LoadOptions {
  /** Names the image of a single-image archive. */
  name?: string;
  /** The platform to choose from a multi-platform image (default: the host's). */
  platform?: Platform;
  /** Aborts the load (SIGINT): what it was writing is removed, and no name is written. */
  signal?: AbortSignal;
}

/** Loads every image of `input`; returns the names written. */
export async function loadArchive(root: string, input: string, opts: LoadOptions = {}): Promise<string[]> {
  const given = opts.name === undefined ? undefined : formatReference(parseReference(opts.name));
  const content = new ContentStore(root);
  let members: ArchiveMembers;
  try {
    members = (await stat(input)).isDirectory()
      ? directoryMembers(content, input, input, opts.signal)
      : await readTarMembers(content, input, input, opts.signal);
  } catch (err) {
    throw systemCause(err) ? new SkiffError(`${input}: ${systemCause(err)}`, (err as NodeJS.ErrnoException).code) : err;
  }
  let images: ImageToName[];
  // docker save (25+) writes both an OCI layout and manifest.json; manifest.json carries the full names.
  if (await members.has('manifest.json')) images = await readDockerArchive(content, members);
  else if ((await members.has('oci-layout')) && (await members.has('index.json'))) images = await readOciLayout(members, opts.platform);
  else throw new SkiffError(`${input}: neither a docker-archive (manifest.json) nor an OCI layout (oci-layout, index.json)`, 'EINVAL');

  if (opts.platform) {
    // As a pull: an image is only what its config says it is, whatever an index entry said.
    const wanted = formatPlatform(normalizePlatform(opts.platform));
    const other = images.find((i) => i.platform !== wanted);
    if (other) throw new SkiffError(`${input}: ${other.what}: the image does not match the specified platform: wanted ${wanted}, actual ${other.platform ?? 'none (its config names no os and architecture)'}`, 'ENOENT');
  }
  if (given !== undefined && images.length !== 1) throw new SkiffError(`--name: ${input} holds ${images.length} images, not one`, 'EINVAL');
  const named: [string, ImageToName][] = [];
  for (const img of images) {
    const names = given !== undefined ? [given] : img.names;
    if (names.length === 0) throw new SkiffError(`${input}: ${img.what} has no full image name; give --name`, 'EINVAL');
    for (const n of names) named.push([n, img]);
  }
  const blobs = [...new Set(images.flatMap((i) => i.blobs))];
  return withLease(root, blobs, async () => {
    // A prune that ran while the archive was read may have taken blobs no name held yet; from here the lease holds them.
    for (const d of blobs) {
      if (!(await content.has(d))) throw new SkiffError(`${input}: blob ${d} was removed while loading (a concurrent image prune?); load again`, 'EAGAIN');
    }
    opts.signal?.throwIfAborted();
    await writeNames(root, named, resolve(input));
    return named.map(([n]) => n);
  });
}

/** Writes every name, or (if one write fails) puts back what the others were. */
async function writeNames(root: string, named: [string, ImageToName][], archive: string): Promise<void> {
  const store = new ImageStore(root);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    for (const [n, img] of named) {
      const old: ImageRecord | undefined = await store.get(n).catch(() => undefined);
      await store.put(n, img.target, { source: { kind: 'archive', path: archive }, ...(img.platform ? { platform: img.platform } : {}) });
      undo.push(() => (old ? store.put(n, old.target, { source: old.source, platform: old.platform }) : store.delete(n)));
    }
  } catch (err) {
    for (const u of undo.reverse()) await u().catch(() => {});
    throw err;
  }
}
