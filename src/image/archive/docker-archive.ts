// Saving a docker-archive, what `docker save` writes: manifest.json ([{Config, RepoTags, Layers}]), the image
// config and one uncompressed tar per layer, so `docker load` and skopeo read it.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../../common/errors.js';
import { ContentStore } from '../content-store.js';
import { compressionOf, decompressor } from '../unpack/decompress.js';
import type { ManifestWithConfig } from './image-set.js';

/** docker's short form of a name: docker.io/library/busybox:latest -> busybox:latest. */
function familiarName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** Writes the docker-archive layout of one image into `dir` (then tarred by the caller). */
export async function writeDockerArchive(root: string, dir: string, name: string, image: ManifestWithConfig): Promise<void> {
  const content = new ContentStore(root);
  const config = await content.read(image.manifest.config.digest);
  const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  const configFile = `${image.manifest.config.digest.slice(7)}.json`;
  writeFileSync(join(dir, configFile), config);
  const layerFiles: string[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) {
    const what = `layer ${layer.digest}`;
    const file = `${diffIds[i].slice(7)}.tar`;
    const hash = createHash('sha256');
    const out = createWriteStream(join(dir, file));
    const decompress = decompressor(compressionOf(layer.mediaType, what), what);
    decompress.on('data', (c: Buffer) => hash.update(c));
    await pipeline(createReadStream(content.path(layer.digest)), decompress, out);
    if (`sha256:${hash.digest('hex')}` !== diffIds[i]) throw new SkiffError(`${what}: uncompressed content does not match rootfs.diff_ids[${i}]`, 'EINVAL');
    layerFiles.push(file);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: configFile, RepoTags: [familiarName(name)], Layers: layerFiles }]));
}
