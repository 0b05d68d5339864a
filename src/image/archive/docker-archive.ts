// docker-archive: what `docker save` and `skopeo copy ... docker-archive:` write. A tar holding manifest.json
// ([{Config, RepoTags, Layers}]), the image config and one uncompressed tar per layer (docker's image spec v1.2
// "Combined Image JSON + Filesystem Changeset Format"). Loading turns each entry into an OCI manifest in the
// content store; saving writes the layers uncompressed, as docker does, so `docker load` and skopeo read it.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../../common/errors.js';
import { ContentStore, type Descriptor } from '../content-store.js';
import { MEDIA_TYPES } from '../media-types.js';
import { formatReference, parseReference } from '../reference.js';
import { compressionOf, decompressor, sniffCompression, type Compression } from '../unpack/decompress.js';
import type { ImageToName, ManifestWithConfig } from './image-set.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

const LAYER_TYPE: Record<Compression, string> = {
  none: MEDIA_TYPES.ociLayer,
  gzip: MEDIA_TYPES.ociLayerGzip,
  zstd: MEDIA_TYPES.ociLayerZstd,
};

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Stores the blobs of an extracted docker-archive; returns the manifests to name (nothing is named here). */
export async function ingestDockerArchive(root: string, dir: string, input: string): Promise<ImageToName[]> {
  let entries: DockerManifestEntry[];
  try {
    entries = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DockerManifestEntry[];
    if (!Array.isArray(entries) || entries.length === 0) throw new Error('no images listed');
  } catch (err) {
    throw new SkiffError(`${input}: manifest.json: ${(err as Error).message}`, 'EINVAL');
  }
  const content = new ContentStore(root);
  const file = (name: string, field: string) => {
    const path = join(dir, ...name.split('/').filter((p) => p && p !== '..'));
    if (!existsSync(path)) throw new SkiffError(`${input}: ${field}: "${name}" is missing from the archive (truncated?)`, 'EINVAL');
    return readFileSync(path);
  };
  const out: ImageToName[] = [];
  for (const [i, e] of entries.entries()) {
    const configBytes = file(e.Config, `manifest.json[${i}].Config`);
    const config = JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== e.Layers.length) {
      throw new SkiffError(`${input}: manifest.json[${i}] lists ${e.Layers.length} layers, its config ${diffIds.length} rootfs.diff_ids`, 'EINVAL');
    }
    const layers: Descriptor[] = [];
    for (const [j, name] of e.Layers.entries()) {
      const bytes = file(name, `manifest.json[${i}].Layers[${j}]`);
      const compression = sniffCompression(bytes);
      // An uncompressed layer is its own diff_id: a cut or altered one is caught here, before anything is named.
      if (compression === 'none' && sha256(bytes) !== diffIds[j]) {
        throw new SkiffError(`${input}: layer "${name}" has digest ${sha256(bytes)}, the config's rootfs.diff_ids[${j}] is ${diffIds[j]}`, 'EINVAL');
      }
      layers.push(await content.ingest(bytes, LAYER_TYPE[compression]));
    }
    const configDesc = await content.ingest(configBytes, MEDIA_TYPES.ociConfig);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers }));
    const target = await content.ingest(manifest, MEDIA_TYPES.ociManifest);
    out.push({ target, names: (e.RepoTags ?? []).map((t) => formatReference(parseReference(t))), what: `manifest.json[${i}]` });
  }
  return out;
}

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
