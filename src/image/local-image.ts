// An image from the local store, ready to run: its manifest, config and unpacked layers. A missing image is
// pulled when the caller says how (skiff run shows progress), except the built-in default image, which is made
// locally with no network.
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { DEFAULT_IMAGE } from './default-image.js';
import { findImage } from './image-summary.js';
import type { ImageConfig } from './container-config.js';
import { ImageStore } from './image-store.js';
import { MEDIA_TYPES } from './media-types.js';
import { formatReference, parseReference } from './reference.js';
import { Snapshots } from './snapshots.js';

export interface LocalImage {
  name: string;
  config: ImageConfig & { rootfs: { diff_ids: string[] } };
  /** Unpacked layer directories, bottom first. */
  layers: string[];
}

export interface LocalImageOptions {
  /**
   * Called with the normalised name when the image is not in the store: pulls it (skiff run). Without it a
   * missing image is an error.
   */
  pullMissing?: (name: string) => Promise<void>;
}

export async function localImage(root: string, input: string, o: LocalImageOptions = {}): Promise<LocalImage> {
  const name = formatReference(parseReference(input));
  if (o.pullMissing && name !== DEFAULT_IMAGE && !(await new ImageStore(root).get(name))) await o.pullMissing(name);
  const rec = await findImage(root, input);
  const content = new ContentStore(root);
  if (rec.target.mediaType !== MEDIA_TYPES.ociManifest && rec.target.mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new SkiffError(`image "${name}": ${rec.target.mediaType} is not a single-platform manifest`, 'ENOTSUP');
  }
  const manifest = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>(rec.target.digest);
  const config = await content.readJson<LocalImage['config']>(manifest.config.digest);
  if (!Array.isArray(config.rootfs?.diff_ids)) throw new SkiffError(`image "${name}": its config has no rootfs.diff_ids`, 'EINVAL');
  const layers = await new Snapshots(root, content).prepare(manifest.layers, config.rootfs.diff_ids);
  return { name, config, layers };
}
