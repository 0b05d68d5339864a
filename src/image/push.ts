// Push: every blob the registry lacks (config and layers; mounted from another repository of the same registry
// when an image pulled from there holds it), then the manifest under the tag. The result is name@digest.
import { open } from 'node:fs/promises';
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { findImage } from './image-summary.js';
import { ImageStore } from './image-store.js';
import type { ImageManifest } from './pull.js';
import { formatReference, parseReference } from './reference.js';
import { RegistryClient } from './registry/client.js';
import { findCredentials } from './registry/credentials.js';
import { loadRegistriesConfig } from './registry/hosts.js';

export interface PushOptions {
  authFile?: string;
  /** One line per blob (pushed, mounted, already there) and per retry. */
  log?: (line: string) => void;
}

export async function push(root: string, input: string, opts: PushOptions = {}): Promise<string> {
  const ref = parseReference(input);
  const name = formatReference(ref);
  if (!ref.tag || ref.digest) throw new SkiffError(`push ${input}: push needs a tag, not a digest`, 'EINVAL');
  const rec = await findImage(root, input);
  const content = new ContentStore(root);
  const manifestBytes = await content.read(rec.target.digest);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  const client = new RegistryClient(ref, {
    purpose: 'push', config: loadRegistriesConfig(root), credentials: findCredentials(ref.domain, opts.authFile, ref.path), onRetry: opts.log,
  });
  const mountSources = await mountSourcesOf(root, ref.domain);
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!(await content.has(d.digest))) throw new SkiffError(`image "${name}": blob ${d.digest} is missing from the content store`, 'ENOENT');
    const how = await client.pushBlob(d, (offset, length) => readRange(content.path(d.digest), offset, length), mountSources.get(d.digest));
    opts.log?.(`${d.digest.slice(7, 19)}: ${how === 'exists' ? 'already there' : how === 'mounted' ? `mounted from ${mountSources.get(d.digest)}` : `pushed ${d.size} bytes`}`);
  }
  const digest = await client.pushManifest(ref.tag, manifestBytes, rec.target.mediaType);
  return `${name}@${digest}`;
}

/** Blob digest -> a repository on `domain` that an image in the store was pulled from and that holds the blob. */
async function mountSourcesOf(root: string, domain: string): Promise<Map<string, string>> {
  const content = new ContentStore(root);
  const out = new Map<string, string>();
  for (const rec of await new ImageStore(root).list()) {
    // A loaded image names no repository to mount from; a pulled one names where it came from.
    if (rec.source?.kind !== 'registry') continue;
    const src = parseReference(rec.source.reference);
    if (src.domain !== domain) continue;
    const m = await content.readJson<{ config?: Descriptor; layers?: Descriptor[] }>(rec.target.digest).catch(() => undefined);
    for (const d of [m?.config, ...(m?.layers ?? [])]) if (d) out.set(d.digest, src.path);
  }
  return out;
}

async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    if (bytesRead !== length) throw new SkiffError(`${path}: short read (${bytesRead} of ${length} bytes at ${offset})`, 'EIO');
    return buf;
  } finally {
    await fh.close();
  }
}
