// The built-in default image, localhost/busybox:latest, made with no network from Debian's busybox-static: one
// gzipped layer (applets as hard links), an OCI image config for the host's platform (the busybox copied in is the
// host's) and a manifest, written into the content store. The same busybox on the same host gives the same bytes:
// the layer is written entry by entry with fixed owners, modes and times, and no time of the build goes in.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { busyboxRootfs } from './busybox-rootfs.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { ImageStore } from './image-store.js';
import { MEDIA_TYPES } from './media-types.js';
import { hostPlatform, type Platform } from './platform.js';
import { entriesTar } from './rootfs-entries.js';

import { DEFAULT_IMAGE } from './default-image-name.js';

export { DEFAULT_IMAGE };

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The host's platform as image configs spell it: arm64 with its variant v8, as docker and containerd write it. */
export function defaultImagePlatform(): Platform {
  const p = hostPlatform();
  return p.architecture === 'arm64' && !p.variant ? { ...p, variant: 'v8' } : p;
}

/** Builds the image into the store under `root` and names it; returns the manifest descriptor. */
export async function buildDefaultImage(root: string): Promise<Descriptor> {
  const layerTar = entriesTar(busyboxRootfs());
  const content = new ContentStore(root);
  const layer = await content.ingest(gzipSync(layerTar, { level: 6 }), MEDIA_TYPES.ociLayerGzip);
  const { architecture, variant, os } = defaultImagePlatform();
  const config = {
    created: '1970-01-01T00:00:00Z',
    architecture,
    ...(variant ? { variant } : {}),
    os,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'skiff: Debian busybox-static' }],
  };
  const configDesc = await content.ingest(Buffer.from(JSON.stringify(config)), MEDIA_TYPES.ociConfig);
  const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers: [layer] };
  const manifestDesc = await content.ingest(Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
  await new ImageStore(root).put(DEFAULT_IMAGE, manifestDesc);
  return manifestDesc;
}
