// What `skiff images` and `skiff image inspect` show of an image: its record, manifest, config and sizes.
import { SkiffError } from '../common/errors.js';
import { ContentStore } from './content-store.js';
import { buildDefaultImage, DEFAULT_IMAGE } from './default-image.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import type { ImageManifest } from './pull.js';
import { formatReference, parseReference } from './reference.js';

export interface ImageSummary extends ImageRecord {
  manifest: ImageManifest;
  config: { created?: string; architecture?: string; os?: string; variant?: string } & Record<string, unknown>;
  /** Sum of the (compressed) layer sizes. */
  size: number;
}

/**
 * The record of an image by any spelling of its name; the error names the input and its normalised form. The
 * built-in default image is made on first mention (unless `builtIn` is false: rmi does not make what it removes).
 */
export async function findImage(root: string, input: string, { builtIn = true } = {}): Promise<ImageRecord> {
  const name = formatReference(parseReference(input));
  const images = new ImageStore(root);
  let rec = await images.get(name);
  if (!rec && builtIn && name === DEFAULT_IMAGE) {
    await buildDefaultImage(root);
    rec = await images.get(name);
  }
  if (!rec) throw new SkiffError(`image "${input}" (${name}) is not in the local store`, 'ENOENT');
  return rec;
}

export async function summarize(root: string, rec: ImageRecord): Promise<ImageSummary> {
  const content = new ContentStore(root);
  const manifest = await content.readJson<ImageManifest>(rec.target.digest);
  const config = await content.readJson<ImageSummary['config']>(manifest.config.digest);
  return { ...rec, manifest, config, size: manifest.layers.reduce((n, l) => n + l.size, 0) };
}
