// The built-in default image, localhost/busybox:latest, made with no network from Debian's busybox-static: one
// gzipped layer (applets as hard links), an OCI image config and manifest, written into the content store.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { makeBusyboxRootfs } from './busybox-rootfs.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { ImageStore } from './image-store.js';
import { MEDIA_TYPES } from './media-types.js';

export const DEFAULT_IMAGE = 'localhost/busybox:latest';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Builds the image into the store under `root` and names it; returns the manifest descriptor. */
export async function buildDefaultImage(root: string): Promise<Descriptor> {
  const work = mkdtempSync(join(tmpdir(), 'skiff-default-image-'));
  try {
    makeBusyboxRootfs(join(work, 'rootfs'));
    const tarPath = join(work, 'layer.tar');
    // Fixed times and no host-specific ids, so the same busybox gives the same digests.
    tar.c({ cwd: join(work, 'rootfs'), file: tarPath, sync: true, portable: true, mtime: new Date(0) }, ['.']);
    const layerTar = readFileSync(tarPath);
    const content = new ContentStore(root);
    const layer = await content.ingest(gzipSync(layerTar, { level: 6 }), MEDIA_TYPES.ociLayerGzip);
    const config = {
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'skiff: Debian busybox-static' }],
    };
    const configDesc = await content.ingest(Buffer.from(JSON.stringify(config)), MEDIA_TYPES.ociConfig);
    const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers: [layer] };
    const manifestDesc = await content.ingest(Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
    await new ImageStore(root).put(DEFAULT_IMAGE, manifestDesc);
    return manifestDesc;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
