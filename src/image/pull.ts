// Pull: resolve the reference to a manifest (choosing the platform from an index), fetch config and layers that
// are not in the store yet, verify each against its descriptor, and only then write the image's name.
import { createHash } from 'node:crypto';
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { ImageStore } from './image-store.js';
import { MEDIA_TYPES } from './media-types.js';
import { formatReference, parseReference } from './reference.js';
import { RegistryClient } from './registry/client.js';
import { findCredentials } from './registry/credentials.js';

export interface Platform { os: string; architecture: string; variant?: string }

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: NODE_ARCH[process.arch] ?? process.arch };
}

export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture) throw new SkiffError(`--platform: "${s}" is not os/arch[/variant]`, 'EINVAL');
  return { os, architecture, variant };
}

export async function pull(root: string, input: string, opts: { platform?: Platform; log?: (line: string) => void; authFile?: string } = {}): Promise<string> {
  const ref = parseReference(input);
  const name = formatReference(ref);
  const client = new RegistryClient(ref, findCredentials(ref.domain, opts.authFile));
  const content = new ContentStore(root);
  const platform = opts.platform ?? hostPlatform();
  const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

  let { bytes, mediaType } = await client.manifest(ref.digest ?? ref.tag!);
  if (ref.digest && digestOf(bytes) !== ref.digest) throw new SkiffError(`${name}: the registry sent a manifest with digest ${digestOf(bytes)}`, 'EINVAL');
  if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList) {
    const index = JSON.parse(bytes.toString('utf8')) as { manifests: (Descriptor & { platform?: Platform })[] };
    const match = index.manifests.find((m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture
      && (!platform.variant || m.platform.variant === platform.variant));
    if (!match) {
      const have = index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}${m.platform?.variant ? `/${m.platform.variant}` : ''}`).join(', ');
      throw new SkiffError(`${name}: no image for ${platform.os}/${platform.architecture} (the index has ${have})`, 'ENOENT');
    }
    ({ bytes, mediaType } = await client.manifest(match.digest));
    if (digestOf(bytes) !== match.digest) throw new SkiffError(`${name}: manifest ${match.digest} arrived with digest ${digestOf(bytes)}`, 'EINVAL');
  }
  if (mediaType !== MEDIA_TYPES.ociManifest && mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new SkiffError(`${name}: manifest type "${mediaType}" is not supported`, 'ENOTSUP');
  }
  const manifest = JSON.parse(bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  for (const d of [manifest.config, ...manifest.layers]) {
    if (d.mediaType?.includes('nondistributable') || d.mediaType?.includes('foreign')) {
      throw new SkiffError(`${name}: layer ${d.digest} is non-distributable (${d.mediaType}); it cannot be pulled from a registry`, 'ENOTSUP');
    }
    if (await content.has(d.digest)) continue;
    opts.log?.(`${d.digest.slice(7, 19)}: downloading ${d.size} bytes`);
    await content.ingest(await client.blob(d.digest), d.mediaType, { digest: d.digest, size: d.size });
  }
  const stored = await content.ingest(bytes, mediaType);
  await new ImageStore(root).put(name, stored);
  return name;
}
