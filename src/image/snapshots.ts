// Unpacked layers, one directory per chain ID (image-spec config.md "Layer ChainID"), shared by every image and
// container that has the same stack. A layer is unpacked into a temporary directory, its uncompressed digest
// checked against the config's diff_ids, and renamed into place only when whole.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { SkiffError } from '../common/errors.js';
import type { ContentStore, Descriptor } from './content-store.js';
import { MEDIA_TYPES } from './media-types.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? sha256(`${out[out.length - 1]} ${d}`) : d);
  return out;
}

function decompress(desc: Descriptor, blob: Buffer): Buffer {
  switch (desc.mediaType) {
    case MEDIA_TYPES.ociLayer:
      return blob;
    case MEDIA_TYPES.ociLayerGzip:
    case MEDIA_TYPES.dockerLayerGzip:
      return gunzipSync(blob);
    default:
      throw new SkiffError(`layer ${desc.digest}: media type ${desc.mediaType} is not supported yet`, 'ENOTSUP');
  }
}

export class Snapshots {
  readonly dir: string;

  constructor(root: string, private readonly content: ContentStore) {
    this.dir = join(root, 'snapshots');
  }

  path(chainId: string): string {
    return join(this.dir, chainId.replace(':', '-'), 'fs');
  }

  /** Unpacks every layer not unpacked yet; returns the layer directories, bottom first. */
  async prepare(layers: Descriptor[], diffIds: string[]): Promise<string[]> {
    if (layers.length !== diffIds.length) throw new SkiffError(`image has ${layers.length} layers but ${diffIds.length} diff_ids`, 'EINVAL');
    const chains = chainIds(diffIds);
    for (const [i, layer] of layers.entries()) {
      if (!existsSync(this.path(chains[i]))) await this.unpack(layer, diffIds[i], chains[i]);
    }
    return chains.map((c) => this.path(c));
  }

  private async unpack(layer: Descriptor, diffId: string, chainId: string): Promise<void> {
    const data = decompress(layer, await this.content.read(layer.digest));
    if (sha256(data) !== diffId) throw new SkiffError(`layer ${layer.digest}: uncompressed digest ${sha256(data)} is not the config's diff_id ${diffId}`, 'EINVAL');
    const final = join(this.dir, chainId.replace(':', '-'));
    const tmp = `${final}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(join(tmp, 'fs'), { recursive: true });
    let whiteout: string | undefined;
    try {
      // node-tar refuses absolute paths and "..", and will not write through a symlink the layer planted. strict:
      // every warning is an error, so an entry it would rewrite (an absolute symlink) stops the unpack instead.
      tar.x({
        cwd: join(tmp, 'fs'), sync: true, preserveOwner: true, preservePaths: false, unlink: true, strict: true,
        filter: (path) => {
          if (basename(path).startsWith('.wh.')) whiteout ??= path;
          return !basename(path).startsWith('.wh.');
        },
      }).end(data);
      if (whiteout) throw new SkiffError(`layer ${layer.digest}: whiteout ${whiteout}: layers that delete files are not supported yet`, 'ENOTSUP');
      renameSync(tmp, final);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      // Another unpack of the same chain finished first: its result is as good as ours.
      if (existsSync(this.path(chainId))) return;
      throw err;
    }
  }
}
