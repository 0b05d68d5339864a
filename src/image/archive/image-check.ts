// The checks both archive formats make before anything is named: the config's rootfs.diff_ids, and each layer
// against them (decompressed and hashed as it was stored, see layer-digest.ts), so an archive whose layers are
// not the image's own is refused at load, not at the first `skiff run`.
import { SkiffError, ValidationError, type Problem } from '../../common/errors.js';
import { layerCompression } from '../media-types.js';
import { formatPlatform, normalizePlatform } from '../platform.js';
import type { StoredBlob } from './members.js';

export const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The platform an image config says it is for, as os/arch[/variant]; undefined if it names none. */
export function platformOf(config: Record<string, unknown>): string | undefined {
  const { os, architecture, variant } = config;
  if (typeof os !== 'string' || !os || typeof architecture !== 'string' || !architecture) return undefined;
  return formatPlatform(normalizePlatform({ os, architecture, variant: typeof variant === 'string' ? variant : undefined }));
}

/** The config's rootfs.diff_ids, one sha256 digest per layer; `where` names the config member. */
export function diffIdsOf(config: unknown, layers: number, where: string): string[] {
  if (!isObject(config)) throw new SkiffError(`${where}: not a JSON object (an image config)`, 'EINVAL');
  const rootfs = config.rootfs;
  const diffIds = isObject(rootfs) ? rootfs.diff_ids : undefined;
  if (!Array.isArray(diffIds)) throw new ValidationError(where, [{ path: isObject(rootfs) ? 'rootfs.diff_ids' : 'rootfs', message: 'missing or not an array' }]);
  const problems: Problem[] = diffIds.flatMap((d, i) => (typeof d === 'string' && DIGEST.test(d) ? [] : [{ path: `rootfs.diff_ids[${i}]`, message: `${JSON.stringify(d)} is not a sha256 digest` }]));
  if (diffIds.length !== layers) problems.push({ path: 'rootfs.diff_ids', message: `${diffIds.length} entries for ${layers} layers` });
  if (problems.length) throw new ValidationError(where, problems);
  return diffIds as string[];
}

const described = (c: string) => (c === 'none' ? 'not compressed' : `${c}-compressed`);

/**
 * A stored layer is what its descriptor (size, media type) and the config (rootfs.diff_ids[i] = the sha256 of the
 * uncompressed tar) say. `what` names the layer in the archive.
 */
export function checkLayer(input: string, stored: StoredBlob, expected: { mediaType: string; size?: number }, diffIds: string[], i: number, what: string): void {
  if (expected.size !== undefined && stored.size !== expected.size) {
    throw new SkiffError(`${input}: ${what}: ${stored.size} bytes, its descriptor says ${expected.size}`, 'EINVAL');
  }
  // checkManifest has refused every media type the table does not hold.
  const compression = layerCompression(expected.mediaType)!;
  const { layer } = stored;
  if (compression !== layer.compression) {
    throw new SkiffError(`${input}: ${what}: its media type ${expected.mediaType} says ${described(compression)}, its content is ${described(layer.compression)}`, 'EINVAL');
  }
  if (layer.error) throw new SkiffError(`${input}: ${what}: cannot be decompressed (${layer.compression}): ${layer.error}`, 'EINVAL');
  if (layer.diffId !== diffIds[i]) {
    throw new SkiffError(`${input}: ${what} has uncompressed digest ${layer.diffId}, its config's rootfs.diff_ids[${i}] is ${diffIds[i]}`, 'EINVAL');
  }
}
