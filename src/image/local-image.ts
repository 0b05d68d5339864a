// An image from the local store, ready to run: its manifest, config and unpacked layers. A missing image is
// pulled when the caller says how (skiff run shows progress), except the built-in default image, which is made
// locally with no network.
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { DEFAULT_IMAGE } from './default-image-name.js';
import { findImage, resolveImage } from './image-summary.js';
import type { ImageConfig } from './container-config.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { MEDIA_TYPES } from './media-types.js';
import { formatReference, parseReference } from './reference.js';
import { Snapshots } from './snapshots.js';

export interface LocalImage {
  name: string;
  /** The image ID: the config's digest. */
  id: string;
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

/** An image by name (pulled if missing and the caller says how) or by image ID or a unique prefix of one. */
export async function localImage(root: string, input: string, o: LocalImageOptions = {}): Promise<LocalImage> {
  const rec = await imageRecord(root, input, o);
  const name = rec.name;
  const content = new ContentStore(root);
  if (rec.target.mediaType !== MEDIA_TYPES.ociManifest && rec.target.mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new SkiffError(`image "${name}": ${rec.target.mediaType} is not a single-platform manifest`, 'ENOTSUP');
  }
  const manifest = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>(rec.target.digest);
  const config = await content.readJson<LocalImage['config']>(manifest.config.digest);
  if (!Array.isArray(config.rootfs?.diff_ids)) throw new SkiffError(`image "${name}": its config has no rootfs.diff_ids`, 'EINVAL');
  const layers = await new Snapshots(root, content).prepare(manifest.layers, config.rootfs.diff_ids);
  return { name, id: manifest.config.digest, config, layers };
}

async function imageRecord(root: string, input: string, o: LocalImageOptions): Promise<ImageRecord> {
  if (IMAGE_ID.test(input) && !(await new ImageStore(root).get(formatReference(parseReference(input))))) {
    const byId = await resolveImage(root, input, { builtIn: false }).catch(() => undefined);
    if (byId?.byId) return byId.image.record;
  }
  const name = formatReference(parseReference(input));
  if (o.pullMissing && name !== DEFAULT_IMAGE && !(await new ImageStore(root).get(name))) await o.pullMissing(name);
  return findImage(root, input);
}

/** What could be an image ID or a prefix of one (docker's minimum of a few digits). */
const IMAGE_ID = /^(?:sha256:)?[a-f0-9]{4,64}$/;
