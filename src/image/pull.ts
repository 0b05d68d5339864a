// Pull: resolve the reference to a manifest (choosing the platform from an index), download the config and the
// layers the store lacks (a few at a time, each resumed after a failure from the bytes it already has, each
// verified against its descriptor; with `unpack`, each layer is unpacked as soon as its blob and the layers below
// it are in, while later blobs still download), and only then store the manifest and write the image's name. A pull that
// fails leaves no name behind; the blobs it finished stay for the next pull (GC removes them if none comes).
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor, type IngestProgress } from './content-store.js';
import { ImageStore } from './image-store.js';
import { withLease } from './lease.js';
import { isIndex, isManifest, isNonDistributable, isSupportedLayer, MEDIA_TYPES } from './media-types.js';
import { choosePlatform, formatPlatform, hostPlatform, type Platform, type PlatformDescriptor } from './platform.js';
import { formatReference, parseReference } from './reference.js';
import { RegistryClient } from './registry/client.js';
import { chainIds, Snapshots } from './snapshots.js';
import { lookupCredentials } from './registry/credentials.js';
import { loadRegistriesConfig } from './registry/hosts.js';
import { TransientError } from './registry/transfer.js';
import { warmUpUnpacking } from './unpack/unpack-layer.js';

export { hostPlatform, parsePlatform, type Platform } from './platform.js';

export interface BlobProgress {
  digest: string;
  kind: 'config' | 'layer';
  total: number;
  done: number;
  status: 'waiting' | 'exists' | 'downloading' | 'done';
  /** Set on the first report of a download that continues an interrupted one. */
  resumedFrom?: number;
}

export interface PullOptions {
  /** Default: the host's. */
  platform?: Platform;
  /** Credentials file (default ~/.docker/config.json; containers' auth.json is read too). */
  authFile?: string;
  /** Progress of each blob (the CLI draws bars or prints lines from it). */
  onProgress?: (p: BlobProgress) => void;
  /** Messages worth a line: retries, mirrors failing over. */
  log?: (line: string) => void;
  /** Also unpack the layers, each as soon as its blob and the layers below it are in, so the image is ready to run. */
  unpack?: boolean;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

const CONFIG_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]);

/** Pulls `input` into the store under `root`; returns the image's name. */
export async function pull(root: string, input: string, opts: PullOptions = {}): Promise<string> {
  const ref = parseReference(input);
  const name = formatReference(ref);
  if (opts.unpack) warmUpUnpacking();
  const config = loadRegistriesConfig(root);
  const found = lookupCredentials(ref.domain, opts.authFile, ref.path);
  const client = new RegistryClient(ref, {
    purpose: 'pull', config, credentials: found.credentials, credentialsMissing: found.missing, onRetry: opts.log,
  });
  const content = new ContentStore(root);
  const platform = opts.platform ?? hostPlatform();

  let top = await client.manifest(ref.digest ?? ref.tag!);
  let chosen: Platform | undefined;
  if (isIndex(top.mediaType)) {
    const index = parseJson<{ manifests?: PlatformDescriptor[] }>(top.bytes, `${name}: index`);
    if (!Array.isArray(index.manifests)) throw new SkiffError(`${name}: index: manifests is not an array`, 'EINVAL');
    const entry = choosePlatform(index.manifests, platform, name);
    chosen = platform;
    top = await client.manifest(entry.digest);
  } else if (opts.platform) {
    chosen = opts.platform;
  }
  if (!isManifest(top.mediaType)) throw new SkiffError(`${name}: manifest type "${top.mediaType}" is not supported (OCI or Docker schema2 images are)`, 'ENOTSUP');
  const manifest = checkManifest(parseJson<ImageManifest>(top.bytes, `${name}: manifest`), name);

  const blobs: { desc: Descriptor; kind: BlobProgress['kind'] }[] = [
    { desc: manifest.config, kind: 'config' }, ...manifest.layers.map((desc) => ({ desc, kind: 'layer' as const })),
  ];
  await withLease(root, [top.digest, ...blobs.map((b) => b.desc.digest)], async () => {
    const limit = limiter(config.maxConcurrentDownloads);
    const downloads = blobs.map((b) => limit(() => fetchBlob(content, client, b.desc, b.kind, config.retries, opts)));
    const unpacked = downloads[0].then(async () => {
      const diffIds = await diffIdsOf(content, manifest, name);
      if (!opts.unpack) return;
      // Unpacked layers count as in use (for a concurrent prune) until the image's name points at them.
      await withLease(root, chainIds(diffIds), () => new Snapshots(root, content).prepare(manifest.layers, diffIds, (i) => downloads[i + 1]));
    });
    await allSettled([...downloads, unpacked]);
    const stored = await content.ingest(top.bytes, top.mediaType, { digest: top.digest });
    await new ImageStore(root).put(name, stored, { source: name, ...(chosen ? { platform: formatPlatform(chosen) } : {}) });
  });
  return name;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new SkiffError(`${what} is not JSON: ${(err as Error).message}`, 'EINVAL');
  }
}

/** The fields a pull relies on, each bad one named by its JSON path. */
export function checkManifest(m: ImageManifest, name: string): ImageManifest {
  const descriptorProblem = (d: Descriptor | undefined, path: string): string | undefined => {
    if (!d || typeof d !== 'object') return `${path}: missing`;
    if (typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) return `${path}.digest: "${String(d?.digest)}" is not a sha256 digest`;
    if (!Number.isSafeInteger(d.size) || d.size < 0) return `${path}.size: must be a non-negative integer`;
    if (typeof d.mediaType !== 'string') return `${path}.mediaType: missing`;
    return undefined;
  };
  if (m.schemaVersion !== 2) throw new SkiffError(`${name}: manifest schemaVersion ${String(m.schemaVersion)} is not supported (2 is)`, 'ENOTSUP');
  const bad = descriptorProblem(m.config, 'config') ?? (Array.isArray(m.layers) ? undefined : 'layers: not an array')
    ?? m.layers.map((l, i) => descriptorProblem(l, `layers[${i}]`)).find(Boolean);
  if (bad) throw new SkiffError(`${name}: manifest ${bad}`, 'EINVAL');
  if (!CONFIG_TYPES.has(m.config.mediaType)) {
    throw new SkiffError(`${name}: config.mediaType "${m.config.mediaType}" is not an image config: this is an artifact, not a container image`, 'ENOTSUP');
  }
  for (const [i, l] of m.layers.entries()) {
    if (isNonDistributable(l.mediaType)) {
      throw new SkiffError(`${name}: layers[${i}] (${l.digest}) is non-distributable (${l.mediaType}): registries do not serve it and skiff does not fetch its urls`, 'ENOTSUP');
    }
    if (!isSupportedLayer(l.mediaType)) throw new SkiffError(`${name}: layers[${i}].mediaType "${l.mediaType}" is not a supported layer (tar, tar+gzip, tar+zstd)`, 'ENOTSUP');
  }
  return m;
}

/** Downloads one blob unless it is stored; a failure that may pass is tried again from the bytes already there. */
async function fetchBlob(content: ContentStore, client: RegistryClient, desc: Descriptor, kind: BlobProgress['kind'], retries: number, opts: PullOptions): Promise<void> {
  const report = (p: Omit<BlobProgress, 'digest' | 'kind' | 'total'>) => opts.onProgress?.({ digest: desc.digest, kind, total: desc.size, ...p });
  if (await content.has(desc.digest)) return report({ done: desc.size, status: 'exists' });
  report({ done: 0, status: 'waiting' });
  for (let attempt = 0; ; attempt++) {
    try {
      let first = true;
      const fresh = await content.ingestFrom(desc, client.blobSource(desc), (p: IngestProgress) => {
        report({ done: p.done, status: 'downloading', ...(first && p.resumedFrom ? { resumedFrom: p.resumedFrom } : {}) });
        first = false;
      });
      return report({ done: desc.size, status: fresh ? 'done' : 'exists' });
    } catch (err) {
      const passing = err instanceof TransientError || (err as SkiffError).code === 'EIO';
      if (!passing || attempt >= retries) throw err;
      opts.log?.(`${desc.digest.slice(7, 19)}: ${(err as Error).message}; resuming (${attempt + 1}/${retries})`);
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

/** The config's rootfs.diff_ids, one per layer of the manifest. */
async function diffIdsOf(content: ContentStore, manifest: ImageManifest, name: string): Promise<string[]> {
  const imageConfig = await content.readJson<{ rootfs?: { diff_ids?: unknown } }>(manifest.config.digest);
  const diffIds = imageConfig.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new SkiffError(`${name}: its config's rootfs.diff_ids has ${Array.isArray(diffIds) ? diffIds.length : 'no'} entries for ${manifest.layers.length} layers`, 'EINVAL');
  }
  if (!diffIds.every((d) => typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d))) throw new SkiffError(`${name}: its config's rootfs.diff_ids are not all sha256 digests`, 'EINVAL');
  return diffIds as string[];
}

/** A function that runs tasks given to it at most `n` at once, in the order given. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Waits for every promise to settle (nothing keeps writing after we return), then throws the first failure. */
async function allSettled(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
