// Test images: the built-in busybox image plus one more gzip layer holding the given files, stored and named in a
// skiff store. Random file contents make a layer that does not compress (a big blob for transfer tests).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { ContentStore, type Descriptor } from '../../src/image/content-store.js';
import { buildDefaultImage } from '../../src/image/default-image.js';
import { ImageStore } from '../../src/image/image-store.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Names `name` an image of the built-in busybox image's layers plus `layerTar` (gzipped); returns that layer. */
export async function imageWithLayer(root: string, name: string, layerTar: Buffer): Promise<Descriptor> {
  const content = new ContentStore(root);
  const baseManifest = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>((await buildDefaultImage(root)).digest);
  const baseConfig = await content.readJson<{ rootfs: { diff_ids: string[] } } & Record<string, unknown>>(baseManifest.config.digest);
  const layer = await content.ingest(gzipSync(layerTar, { level: 1 }), MEDIA_TYPES.ociLayerGzip);
  const config = { ...baseConfig, rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, sha256(layerTar)] } };
  const configDesc = await content.ingest(Buffer.from(JSON.stringify(config)), MEDIA_TYPES.ociConfig);
  const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers: [...baseManifest.layers, layer] };
  await new ImageStore(root).put(name, await content.ingest(Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest));
  return layer;
}

/** The same with a layer holding `files` (path -> content), packed by node-tar from a staging directory. */
export async function buildLayeredImage(root: string, name: string, files: Record<string, Buffer>): Promise<Descriptor> {
  const work = mkdtempSync(join(tmpdir(), 'skiff-test-layer-'));
  try {
    for (const [path, data] of Object.entries(files)) {
      mkdirSync(dirname(join(work, 'rootfs', path)), { recursive: true });
      writeFileSync(join(work, 'rootfs', path), data);
    }
    const tarPath = join(work, 'layer.tar');
    tar.c({ cwd: join(work, 'rootfs'), file: tarPath, sync: true, portable: true, mtime: new Date(0) }, Object.keys(files).map((p) => p.split('/')[0]));
    return await imageWithLayer(root, name, readFileSync(tarPath));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
