// OCI image layouts (image-spec image-layout.md): `oci-layout`, `index.json` and `blobs/<alg>/<hex>`, as a
// directory or as a tar of one (an "oci-archive", what skopeo and podman write). Every blob is verified (size and
// digest) as it is copied into the content store; an image's name comes from org.opencontainers.image.ref.name.
import { cpSync, existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';
import { ContentStore, type Descriptor } from '../content-store.js';
import { MEDIA_TYPES } from '../media-types.js';
import { formatReference, parseReference } from '../reference.js';
import type { ImageToName, ManifestWithConfig } from './image-set.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

interface Manifest { config: Descriptor; layers: Descriptor[] }

export function isOciLayout(dir: string): boolean {
  return existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'));
}

/** Stores every image manifest of the layout at `dir` (nested indexes are not followed). */
export async function ingestOciLayout(root: string, dir: string, input: string): Promise<ImageToName[]> {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const manifests = (index.manifests ?? []).filter((m) => m.mediaType === MEDIA_TYPES.ociManifest || m.mediaType === MEDIA_TYPES.dockerManifest);
  if (manifests.length === 0) throw new SkiffError(`${input}: index.json lists no image manifest`, 'EINVAL');
  const content = new ContentStore(root);
  const blob = (d: Descriptor) => {
    const path = join(dir, 'blobs', ...d.digest.split(':'));
    if (!existsSync(path)) throw new SkiffError(`${input}: blob ${d.digest} is missing (truncated archive?)`, 'EINVAL');
    return readFileSync(path);
  };
  const out: ImageToName[] = [];
  for (const [i, m] of manifests.entries()) {
    const manifestBytes = blob(m);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    for (const d of [manifest.config, ...manifest.layers]) await content.ingest(blob(d), d.mediaType, { digest: d.digest, size: d.size });
    const target = await content.ingest(manifestBytes, m.mediaType, { digest: m.digest, size: m.size });
    const ref = m.annotations?.[REF_NAME];
    const what = `index.json manifests[${i}] (${m.digest})`;
    // Layouts often name an image by a bare tag (skopeo's oci-archive:FILE:TAG, umoci's --image DIR:TAG): that is
    // no image name of ours, and the caller asks for --name.
    out.push({ target, names: ref && ref.includes('/') ? [formatReference(parseReference(ref))] : [], what: ref && !ref.includes('/') ? `${what}, named "${ref}"` : what });
  }
  return out;
}

/** Writes the OCI layout of one image into `dir` (blobs hard-linked from the store where possible). */
export function writeOciLayout(root: string, dir: string, name: string, image: ManifestWithConfig): void {
  const content = new ContentStore(root);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const d of [image.target, image.manifest.config, ...image.manifest.layers]) {
    const to = join(dir, 'blobs', 'sha256', d.digest.slice(7));
    if (existsSync(to)) continue;
    try {
      linkSync(content.path(d.digest), to);
    } catch {
      cpSync(content.path(d.digest), to);
    }
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...image.target, annotations: { [REF_NAME]: name } }] }));
}
