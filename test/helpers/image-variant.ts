// Test images that differ from the built-in default image only in their config (created, author, Config fields...):
// the same layer, a new config and manifest, stored and named in a skiff store.
import { ContentStore, type Descriptor } from '../../src/image/content-store.js';
import { buildDefaultImage } from '../../src/image/default-image.js';
import { ImageStore } from '../../src/image/image-store.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';

export interface Variant {
  manifest: Descriptor;
  config: Descriptor;
}

/** Names `name` an image whose config is the default image's with `patch` spread over it. */
export async function imageVariant(root: string, name: string, patch: Record<string, unknown>): Promise<Variant> {
  const content = new ContentStore(root);
  const base = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>((await buildDefaultImage(root)).digest);
  const config = { ...await content.readJson<Record<string, unknown>>(base.config.digest), ...patch };
  const configDesc = await content.ingest(Buffer.from(JSON.stringify(config)), MEDIA_TYPES.ociConfig);
  const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers: base.layers };
  const desc = await content.ingest(Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
  await new ImageStore(root).put(name, desc);
  return { manifest: desc, config: configDesc };
}
