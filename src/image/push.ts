// Push: every blob the registry lacks (config and layers), then the manifest under the tag.
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { ImageStore } from './image-store.js';
import { formatReference, parseReference } from './reference.js';
import { RegistryClient } from './registry/client.js';
import { findCredentials } from './registry/credentials.js';

export async function push(root: string, input: string, opts: { log?: (line: string) => void; authFile?: string } = {}): Promise<string> {
  const ref = parseReference(input);
  const name = formatReference(ref);
  if (!ref.tag || ref.digest) throw new SkiffError(`push ${input}: push needs a tag, not a digest`, 'EINVAL');
  const rec = await new ImageStore(root).get(name);
  if (!rec) throw new SkiffError(`image "${input}" (${name}) is not in the local store`, 'ENOENT');
  const content = new ContentStore(root);
  const manifestBytes = await content.read(rec.target.digest);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  const client = new RegistryClient(ref, findCredentials(ref.domain, opts.authFile));
  for (const d of [manifest.config, ...manifest.layers]) {
    const sent = await client.pushBlob(d.digest, await content.read(d.digest));
    opts.log?.(`${d.digest.slice(7, 19)}: ${sent ? `pushed ${d.size} bytes` : 'already there'}`);
  }
  await client.pushManifest(ref.tag, manifestBytes, rec.target.mediaType);
  return `${name}@${rec.target.digest}`;
}
