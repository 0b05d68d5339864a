// Loading an OCI image layout (image-spec image-layout.md: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`), a
// directory or a tar of one (an "oci-archive", as skopeo and podman write). Each entry of index.json is an image:
// a manifest, or an index (a multi-platform image, as `skopeo copy --all` writes) from which the host's platform,
// or --platform, is chosen as a pull chooses. A name comes from the entry's annotations.
import { SkiffError, ValidationError, type Problem } from '../../common/errors.js';
import type { Descriptor } from '../content-store.js';
import { isIndex, isManifest } from '../media-types.js';
import { choosePlatform, formatPlatform, hostPlatform, normalizePlatform, type Platform, type PlatformDescriptor } from '../platform.js';
import { checkManifest, type ImageManifest } from '../pull.js';
import { formatReference, parseReference } from '../reference.js';
import { checkLayer, diffIdsOf, DIGEST, isObject, platformOf } from './image-check.js';
import type { ImageToName } from './image-set.js';
import { readJson, type ArchiveMembers } from './members.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
/** containerd's (and docker 25's) full name of an exported image; ref.name is then only its tag. */
const CONTAINERD_NAME = 'io.containerd.image.name';
/** An index of indexes of indexes is already past what any tool writes. */
const MAX_NESTING = 3;

export async function readOciLayout(members: ArchiveMembers, platform: Platform | undefined): Promise<ImageToName[]> {
  const input = members.input;
  const layout = await readJson(members, 'oci-layout', 'the layout marker');
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string') throw new SkiffError(`${input}: oci-layout: imageLayoutVersion: missing`, 'EINVAL');
  const entries = indexEntries(await readJson(members, 'index.json', 'the layout\'s index'), `${input}: index.json`);
  const out: ImageToName[] = [];
  const skipped = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    let desc = entry;
    let where = `index.json manifests[${i}] (${entry.digest})`;
    for (let depth = 0; isIndex(desc.mediaType); depth++) {
      if (depth === MAX_NESTING) throw new SkiffError(`${input}: ${where}: indexes nested more than ${MAX_NESTING} deep`, 'EINVAL');
      const want = platform ?? hostPlatform();
      const nested = indexEntries(await readBlobJson(members, desc, where), `${input}: ${blobPath(desc)} (${where})`);
      desc = choosePlatform(nested, want, `${input}: ${where}`);
      where = `${formatPlatform(normalizePlatform(want))} of ${where}`;
    }
    if (!isManifest(desc.mediaType)) {
      skipped.add(desc.mediaType);
      continue;
    }
    out.push({ ...await readImage(members, desc, where), ...namesOf(entry, where, input) });
  }
  if (out.length === 0) {
    throw new SkiffError(`${input}: index.json lists no image manifest${skipped.size ? ` (only ${[...skipped].join(', ')})` : ''}`, 'EINVAL');
  }
  return out;
}

/** One image manifest, its config and layers, each checked against what refers to it. */
async function readImage(members: ArchiveMembers, desc: Descriptor, where: string): Promise<{ target: Descriptor; blobs: string[]; platform?: string }> {
  const input = members.input;
  const doc = await readBlobJson(members, desc, where);
  const manifestWhere = `${blobPath(desc)} (${where})`;
  if (!isObject(doc)) throw new SkiffError(`${input}: ${manifestWhere}: not a JSON object (an image manifest)`, 'EINVAL');
  // The same checks, and messages, as a pull: a non-distributable layer is refused here, not at `skiff run`.
  const manifest = checkManifest(doc as unknown as ImageManifest, `${input}: ${manifestWhere}`);
  const configWhere = `config of ${where}`;
  const config = await readBlobJson(members, manifest.config, configWhere);
  const diffIds = diffIdsOf(config, manifest.layers.length, `${input}: ${blobPath(manifest.config)} (${configWhere})`);
  for (const [j, layer] of manifest.layers.entries()) {
    const what = `layer ${blobPath(layer)} (layers[${j}] of ${where})`;
    const stored = await members.blob(blobPath(layer));
    if (!stored) throw new SkiffError(`${input}: ${what} is not in the archive (truncated?)`, 'EINVAL');
    checkLayer(input, stored, layer, diffIds, j, what);
  }
  const platform = platformOf(config as Record<string, unknown>);
  return {
    target: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
    blobs: [desc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
    ...(platform ? { platform } : {}),
  };
}

/** A JSON blob (an index, manifest or config), its presence and size checked against its descriptor. */
async function readBlobJson(members: ArchiveMembers, desc: Descriptor, what: string): Promise<unknown> {
  const path = blobPath(desc);
  const stored = await members.blob(path);
  if (!stored) throw new SkiffError(`${members.input}: ${what}: ${path} is not in the archive (truncated?)`, 'EINVAL');
  if (stored.size !== desc.size) throw new SkiffError(`${members.input}: ${path} (${what}): ${stored.size} bytes, its descriptor says ${desc.size}`, 'EINVAL');
  return readJson(members, path, what);
}

function blobPath(d: Descriptor): string {
  return `blobs/sha256/${d.digest.slice('sha256:'.length)}`;
}

/** An index's manifests, every malformed descriptor named ("index.json: manifests[1].digest: ..."). */
function indexEntries(doc: unknown, where: string): PlatformDescriptor[] {
  if (!isObject(doc)) throw new SkiffError(`${where}: not a JSON object (an image index)`, 'EINVAL');
  if (!Array.isArray(doc.manifests)) throw new ValidationError(where, [{ path: 'manifests', message: 'missing or not an array' }]);
  const problems: Problem[] = [];
  for (const [i, d] of doc.manifests.entries()) {
    const at = `manifests[${i}]`;
    if (!isObject(d)) problems.push({ path: at, message: 'not an object' });
    else {
      if (typeof d.mediaType !== 'string') problems.push({ path: `${at}.mediaType`, message: 'missing' });
      if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) problems.push({ path: `${at}.digest`, message: `${JSON.stringify(d.digest)} is not a sha256 digest` });
      if (!Number.isSafeInteger(d.size) || (d.size as number) < 0) problems.push({ path: `${at}.size`, message: 'must be a non-negative integer' });
      if (d.annotations !== undefined && !isObject(d.annotations)) problems.push({ path: `${at}.annotations`, message: 'not an object' });
      if (d.platform !== undefined && !(isObject(d.platform) && typeof d.platform.os === 'string' && typeof d.platform.architecture === 'string')) {
        problems.push({ path: `${at}.platform`, message: 'not an object with os and architecture' });
      }
    }
  }
  if (problems.length) throw new ValidationError(where, problems);
  return doc.manifests as PlatformDescriptor[];
}

/**
 * The entry's full name: containerd's annotation, or ref.name when it is one. Layouts often name an image by a
 * bare tag (skopeo's oci-archive:FILE:TAG, umoci's --image DIR:TAG): that is no image name of ours, and the
 * caller asks for --name.
 */
function namesOf(entry: Descriptor, where: string, input: string): { names: string[]; what: string } {
  const full = entry.annotations?.[CONTAINERD_NAME];
  const ref = entry.annotations?.[REF_NAME];
  const name = typeof full === 'string' ? full : typeof ref === 'string' && ref.includes('/') ? ref : undefined;
  if (name === undefined) return { names: [], what: typeof ref === 'string' ? `${where}, named "${ref}"` : where };
  try {
    return { names: [formatReference(parseReference(name))], what: where };
  } catch (err) {
    throw new SkiffError(`${input}: ${where}: annotation ${full !== undefined ? CONTAINERD_NAME : REF_NAME}: ${(err as Error).message}`, 'EINVAL');
  }
}
