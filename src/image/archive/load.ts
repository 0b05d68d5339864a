// skiff load: an OCI layout directory, an oci-archive or a docker-archive (plain or gzipped tar), told apart by
// what they hold. Every blob is stored and verified first; names are written last, so a bad or truncated
// archive leaves no image behind (unnamed blobs are garbage collection's).
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { SkiffError } from '../../common/errors.js';
import { ImageStore } from '../image-store.js';
import { formatReference, parseReference } from '../reference.js';
import { ingestDockerArchive } from './docker-archive.js';
import type { ImageToName } from './image-set.js';
import { ingestOciLayout, isOciLayout } from './oci-layout.js';

async function ingest(root: string, dir: string, input: string): Promise<ImageToName[]> {
  // docker save (25+) writes both an OCI layout and manifest.json; manifest.json carries the full names.
  if (existsSync(join(dir, 'manifest.json'))) return ingestDockerArchive(root, dir, input);
  if (isOciLayout(dir)) return ingestOciLayout(root, dir, input);
  throw new SkiffError(`${input}: neither a docker-archive (manifest.json) nor an OCI layout (oci-layout, index.json)`, 'EINVAL');
}

/** Loads every image of `input`; `name` names the image of a single-image archive. Returns the names written. */
export async function loadArchive(root: string, input: string, name?: string): Promise<string[]> {
  if (!existsSync(input)) throw new SkiffError(`${input}: no such file or directory`, 'ENOENT');
  const isDir = statSync(input).isDirectory();
  const dir = isDir ? input : mkdtempSync(join(tmpdir(), 'skiff-load-'));
  try {
    if (!isDir) {
      try {
        // node-tar refuses absolute and ".." names and detects gzip by itself.
        tar.x({ file: input, cwd: dir, sync: true, strict: true, preservePaths: false, preserveOwner: false });
      } catch (err) {
        throw new SkiffError(`${input}: not a readable tar archive: ${(err as Error).message}`, 'EINVAL');
      }
    }
    const images = await ingest(root, dir, input);
    if (name !== undefined && images.length !== 1) throw new SkiffError(`--name: ${input} holds ${images.length} images, not one`, 'EINVAL');
    const named: [string, ImageToName][] = [];
    for (const img of images) {
      const names = name !== undefined ? [formatReference(parseReference(name))] : img.names;
      if (names.length === 0) throw new SkiffError(`${input}: ${img.what} has no full image name; give --name`, 'EINVAL');
      for (const n of names) named.push([n, img]);
    }
    const store = new ImageStore(root);
    for (const [n, img] of named) await store.put(n, img.target);
    return named.map(([n]) => n);
  } finally {
    if (!isDir) rmSync(dir, { recursive: true, force: true });
  }
}
