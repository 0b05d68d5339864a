// Saving a docker-archive, as `docker save` writes one: manifest.json, the config as <hex>.json and each layer
// uncompressed as <diff_id hex>.tar, which docker load, skopeo and podman read. A tar header gives its member's
// size first, and a compressed layer's uncompressed size is known only by decompressing it: so each such layer is
// decompressed twice, once to measure (and check it against its diff_id) before the output is opened, once as it
// is written (and checked again), instead of being staged uncompressed on disk.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { SkiffError } from '../../common/errors.js';
import type { ContentStore, Descriptor } from '../content-store.js';
import type { Compression } from '../media-types.js';
import type { ImageManifest } from '../pull.js';
import { compressionOf, decompressor } from '../unpack/decompress.js';
import { fileChunks, READ_CHUNK } from './file-chunks.js';
import { diffIdsOf } from './image-check.js';
import type { MemberToWrite } from './tar-writer.js';

export async function dockerArchiveMembers(content: ContentStore, name: string, manifest: ImageManifest, signal?: AbortSignal): Promise<MemberToWrite[]> {
  const configBytes = await content.read(manifest.config.digest);
  const configWhat = `image ${name}: config ${manifest.config.digest}`;
  let config: unknown;
  try {
    config = JSON.parse(configBytes.toString('utf8'));
  } catch (err) {
    throw new SkiffError(`${configWhat}: not JSON: ${(err as Error).message}`, 'EINVAL');
  }
  const diffIds = diffIdsOf(config, manifest.layers.length, configWhat);
  const configFile = `${manifest.config.digest.slice('sha256:'.length)}.json`;
  const layers: MemberToWrite[] = [];
  const files: string[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    const what = `image ${name}: layer ${layer.digest} (rootfs.diff_ids[${i}])`;
    const file = `${diffIds[i].slice('sha256:'.length)}.tar`;
    files.push(file);
    // The same layer twice (an empty layer repeated) is one file, named twice in manifest.json.
    if (layers.some((l) => l.path === file)) continue;
    const compression = compressionOf(layer.mediaType, what);
    const body = () => uncompressed(content.path(layer.digest), compression, diffIds[i], what, signal);
    layers.push({ path: file, size: await sizeOf(content, layer, compression, body, diffIds[i], what), body });
  }
  const index = [{ Config: configFile, RepoTags: [familiarName(name)], Layers: files }];
  const json = Buffer.from(JSON.stringify(index));
  return [
    { path: 'manifest.json', size: json.length, body: () => [json] },
    { path: configFile, size: configBytes.length, body: () => [configBytes] },
    ...layers,
  ];
}

/** docker's short form of a name: docker.io/library/busybox:latest -> busybox:latest. */
function familiarName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** The uncompressed size of a layer: its blob's for a plain tar (which is its own diff_id), else decompressed and counted. */
async function sizeOf(content: ContentStore, layer: Descriptor, compression: Compression, body: () => AsyncIterable<Uint8Array>, diffId: string, what: string): Promise<number> {
  if (compression === 'none') {
    if (layer.digest !== diffId) throw new SkiffError(`${what}: an uncompressed layer is its own diff_id, but its digest is not ${diffId}`, 'EINVAL');
    const size = await content.size(layer.digest);
    if (size === undefined) throw new SkiffError(`${what}: blob is not in the content store`, 'ENOENT');
    return size;
  }
  let size = 0;
  for await (const chunk of body()) size += chunk.length;
  return size;
}

/** A layer's uncompressed bytes; a compressed layer whose bytes do not hash to its diff_id fails at the end. */
async function* uncompressed(blob: string, compression: Compression, diffId: string, what: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (compression === 'none') {
    yield* fileChunks(blob, signal);
    return;
  }
  // Made here, where pipeline() at once listens to it (file-chunks.ts says why that matters).
  const source = createReadStream(blob, { highWaterMark: READ_CHUNK, signal });
  const out = decompressor(compression, what);
  // pipeline() destroys both on an error, which reaches the loop below through `out`.
  pipeline(source, out, () => {});
  const hash = createHash('sha256');
  for await (const chunk of out) {
    hash.update(chunk as Buffer);
    yield chunk as Buffer;
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== diffId) throw new SkiffError(`${what}: uncompressed content has digest ${got}, not ${diffId}`, 'EINVAL');
}
