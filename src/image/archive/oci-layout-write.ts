// Saving an oci-archive: a tar of an OCI image layout (image-spec image-layout.md) holding one image, named by
// org.opencontainers.image.ref.name with its full name (so `skiff load` gives it back; skopeo and umoci address
// it as oci-archive:FILE:NAME). oci-layout and index.json come first, so a reader streaming the tar knows what the
// blobs are when they arrive; the blobs are read from the content store as they are written.
import { SkiffError } from '../../common/errors.js';
import type { ContentStore, Descriptor } from '../content-store.js';
import { MEDIA_TYPES } from '../media-types.js';
import type { ImageManifest } from '../pull.js';
import { fileChunks } from './file-chunks.js';
import type { MemberToWrite } from './tar-writer.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

export async function ociArchiveMembers(content: ContentStore, name: string, target: Descriptor, manifest: ImageManifest, signal?: AbortSignal): Promise<MemberToWrite[]> {
  const json = (path: string, doc: unknown): MemberToWrite => {
    const bytes = Buffer.from(JSON.stringify(doc));
    return { path, size: bytes.length, body: () => [bytes] };
  };
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ mediaType: target.mediaType, digest: target.digest, size: target.size, annotations: { [REF_NAME]: name } }] };
  const members: MemberToWrite[] = [
    json('oci-layout', { imageLayoutVersion: '1.0.0' }), json('index.json', index),
    { path: 'blobs', directory: true }, { path: 'blobs/sha256', directory: true },
  ];
  const seen = new Set<string>();
  for (const d of [target, manifest.config, ...manifest.layers]) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const size = await content.size(d.digest);
    if (size === undefined) throw new SkiffError(`image ${name}: blob ${d.digest} is not in the content store`, 'ENOENT');
    if (size !== d.size) throw new SkiffError(`image ${name}: blob ${d.digest} is ${size} bytes in the content store, its descriptor says ${d.size}`, 'EIO');
    members.push({ path: `blobs/sha256/${d.digest.slice('sha256:'.length)}`, size, body: () => fileChunks(content.path(d.digest), signal) });
  }
  return members;
}
