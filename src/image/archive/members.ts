// What the format readers (docker-archive-read.ts, oci-layout-read.ts) see of an archive, whether it is a tar read once from
// start to end (tar-members.ts) or a directory read where needed (directory-members.ts): members by path, small
// ones as bytes, the others as blobs already in the content store with their uncompressed digest.
import { posix } from 'node:path';
import { SkiffError } from '../../common/errors.js';
import type { ContentStore } from '../content-store.js';
import { LayerDigester, type LayerDigest } from './layer-digest.js';

/** A member stored in the content store, with what its bytes are as a layer. */
export interface StoredBlob {
  digest: string;
  size: number;
  layer: LayerDigest;
}

export interface ArchiveMembers {
  /** The archive as the user named it: the start of every error. */
  readonly input: string;
  has(path: string): Promise<boolean>;
  /** A member's bytes, for JSON documents (at most MAX_JSON_BYTES); undefined when there is no such member. */
  bytes(path: string): Promise<Buffer | undefined>;
  /** A member in the content store; undefined when there is no such member. */
  blob(path: string): Promise<StoredBlob | undefined>;
}

/** Manifests, indexes and configs are a few KiB; containerd refuses manifests past 4 MiB. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * A member path as the archive's own documents spell it ("./blobs/sha256/…", "abc/layer.tar"): relative, no "."
 * or ".." parts; undefined for a path that leaves the archive.
 */
export function memberPath(path: string): string | undefined {
  if (path.startsWith('/')) return undefined;
  const p = posix.normalize(path).replace(/\/+$/, '');
  if (p === '..' || p.startsWith('../') || p === '.' || p === '') return undefined;
  return p;
}

/** The digest a member's path promises: an OCI layout's blobs/sha256/<hex>. */
export function digestOfPath(path: string): string | undefined {
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  return m ? `sha256:${m[1]}` : undefined;
}

/** Stores one member's bytes as they arrive, noting their uncompressed digest on the way. */
export async function storeMember(content: ContentStore, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, path: string, size: number | undefined, input: string): Promise<StoredBlob> {
  const digester = new LayerDigester(path);
  async function* teed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      await digester.write(chunk);
      yield chunk;
    }
  }
  let stored: { digest: string; size: number };
  try {
    stored = await content.ingestStream(teed(), { digest: digestOfPath(path), size }, `${input}: ${path}`);
  } catch (err) {
    digester.abort();
    throw err;
  }
  const layer = await digester.end();
  return { ...stored, layer: layer.compression === 'none' && !layer.error ? { ...layer, diffId: stored.digest } : layer };
}

/** A JSON member, parsed; `what` says why it is read ("manifest.json[0].Config"). */
export async function readJson(members: ArchiveMembers, path: string, what: string): Promise<unknown> {
  const bytes = await members.bytes(path);
  if (!bytes) throw new SkiffError(`${members.input}: ${what}: "${path}" is not in the archive (truncated?)`, 'EINVAL');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new SkiffError(`${members.input}: ${path} (${what}): not JSON: ${(err as Error).message}`, 'EINVAL');
  }
}

export function tooLarge(input: string, path: string, size: number): SkiffError {
  return new SkiffError(`${input}: ${path}: ${size} bytes, more than the ${MAX_JSON_BYTES} a JSON document may have`, 'EFBIG');
}
