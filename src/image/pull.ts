// Pull: a tag the store already has is asked about with a manifest HEAD first, and nothing is downloaded when the
// registry's digest is what the name points at (docker's "Image is up to date"). Otherwise: resolve the reference
// to a manifest (choosing the platform from an index), read the image config and check it is for the platform
// asked for (before anything is stored), download the layers the store lacks (a few at a time, each resumed after a
// failure from the bytes it already has, each verified against its descriptor; with `unpack`, each layer is
// unpacked as soon as its blob and the layers below it are in, while later blobs still download), and only then
// store the config, the index, the manifest and write the image's name with the platform its config names. A pull
// that fails leaves no name behind; the blobs it finished stay for the next pull (GC removes them if none comes).
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor, type IngestProgress } from './content-store.js';
import { ImageStore } from './image-store.js';
import { withLease } from './lease.js';
import { isIndex, isManifest, isNonDistributable, isSupportedLayer, MEDIA_TYPES } from './media-types.js';
import { choosePlatform, configPlatform, formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformMatches, type Platform, type PlatformDescriptor } from './platform.js';
import { formatReference, parseReference } from './reference.js';
import { RegistryClient, type Manifest } from './registry/client.js';
import { chainIds, Snapshots } from './snapshots.js';
import type { Credentials } from './registry/credential-types.js';
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
  /** Chosen from an index and required of the image's config. Default: the host's, chosen from an index only. */
  platform?: Platform;
  /** Credentials file (default ~/.docker/config.json; containers' auth.json is read too). */
  authFile?: string;
  /** The credentials to use instead of looking them up in authFile (skiffd: the kubelet's AuthConfig). */
  credentials?: Credentials;
  /** registries.json, when not <root>/registries.json. */
  registriesFile?: string;
  /** Progress of each blob (the CLI draws bars or prints lines from it). */
  onProgress?: (p: BlobProgress) => void;
  /** Messages worth a line: retries, mirrors failing over, "Image is up to date". */
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

interface ImageConfig {
  os?: unknown;
  architecture?: unknown;
  variant?: unknown;
  rootfs?: { diff_ids?: unknown };
}

const CONFIG_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]);
/** The image config is read into memory, to be checked before anything is stored; one larger is refused. */
const CONFIG_MAX = 8 * 1024 * 1024;

/** Pulls `input` into the store under `root`; returns the image's name. */
export async function pull(root: string, input: string, opts: PullOptions = {}): Promise<string> {
  const ref = parseReference(input);
  const name = formatReference(ref);
  if (opts.unpack) warmUpUnpacking();
  const config = loadRegistriesConfig(root, opts.registriesFile);
  const found = opts.credentials ? { credentials: opts.credentials } : lookupCredentials(ref.domain, opts.authFile, ref.path);
  const client = new RegistryClient(ref, {
    purpose: 'pull', config, credentials: found.credentials, credentialsMissing: found.missing, onRetry: opts.log,
  });
  const content = new ContentStore(root);
  const images = new ImageStore(root);

  if (!ref.digest && (await upToDate(client, content, images, name, ref.tag!, opts.platform))) {
    opts.log?.(`Status: Image is up to date for ${name}`);
    return name;
  }

  let top = await client.manifest(ref.digest ?? ref.tag!);
  let index: Manifest | undefined;
  if (isIndex(top.mediaType)) {
    index = top;
    const parsed = parseJson<{ manifests?: PlatformDescriptor[] }>(top.bytes, `${name}: index`);
    if (!Array.isArray(parsed.manifests)) throw new SkiffError(`${name}: index: manifests is not an array`, 'EINVAL');
    top = await client.manifest(choosePlatform(parsed.manifests, opts.platform ?? hostPlatform(), name).digest);
  }
  if (!isManifest(top.mediaType)) throw new SkiffError(`${name}: manifest type "${top.mediaType}" is not supported (OCI or Docker schema2 images are)`, 'ENOTSUP');
  const manifest = checkManifest(parseJson<ImageManifest>(top.bytes, `${name}: manifest`), name);

  const configBytes = await readImageConfig(content, client, manifest.config, opts);
  const imageConfig = parseJson<ImageConfig>(configBytes, `${name}: config ${manifest.config.digest}`);
  if (typeof imageConfig !== 'object' || imageConfig === null || Array.isArray(imageConfig)) throw new SkiffError(`${name}: config ${manifest.config.digest} is not a JSON object`, 'EINVAL');
  const platform = configPlatform(imageConfig);
  // As docker: an index entry or a single-platform image is only what its config says it is.
  if (opts.platform && !platformMatches(opts.platform, platform)) {
    const actual = platform ? formatPlatform(platform) : 'none (its config names no os and architecture)';
    throw new SkiffError(`${name}: the image does not match the specified platform: wanted ${formatPlatform(normalizePlatform(opts.platform))}, actual ${actual}`, 'ENOENT');
  }
  const diffIds = diffIdsOf(imageConfig, manifest, name);

  const digests = [...(index ? [index.digest] : []), top.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  await withLease(root, digests, async () => {
    if (await content.has(manifest.config.digest)) reportStored(opts, manifest.config, 'config', 'exists');
    else {
      await content.ingest(configBytes, manifest.config.mediaType, { digest: manifest.config.digest, size: manifest.config.size });
      reportStored(opts, manifest.config, 'config', 'done');
    }
    const limit = limiter(config.maxConcurrentDownloads);
    const downloads = manifest.layers.map((desc) => limit(() => fetchLayer(content, client, desc, config.retries, opts)));
    // Unpacked layers count as in use (for a concurrent prune) until the image's name points at them.
    const unpacked = opts.unpack
      ? withLease(root, chainIds(diffIds), () => new Snapshots(root, content).prepare(manifest.layers, diffIds, (i) => downloads[i]))
      : Promise.resolve();
    await allSettled([...downloads, unpacked]);
    // The index is kept so that the next pull's HEAD of the tag, which names the index, can be answered locally.
    if (index) await content.ingest(index.bytes, index.mediaType, { digest: index.digest });
    const stored = await content.ingest(top.bytes, top.mediaType, { digest: top.digest });
    await images.put(name, stored, { source: { kind: 'registry', reference: name }, ...(platform ? { platform: formatPlatform(platform) } : {}) });
  });
  return name;
}

/**
 * Whether `name` already points at what `tag` names in the registry, asked with a manifest HEAD (no body): its
 * Docker-Content-Digest is the stored manifest's, or that of an index an earlier pull kept whose entry for the
 * platform is the stored manifest. A platform asked for must be the one recorded. Any doubt (no record, no digest
 * in the answer, a HEAD the registry does not serve) means a full pull; an answer that a GET would get too (refused
 * credentials, an unreachable or untrusted registry) is the error.
 */
async function upToDate(client: RegistryClient, content: ContentStore, images: ImageStore, name: string, tag: string, want: Platform | undefined): Promise<boolean> {
  const record = await images.get(name).catch(() => undefined);
  if (!record) return false;
  let head: Descriptor | undefined;
  try {
    head = await client.headManifest(tag);
  } catch (err) {
    if (['EACCES', 'ECONNREFUSED', 'EPROTO'].includes((err as SkiffError).code)) throw err;
    return false;
  }
  if (!head?.digest) return false;
  if (head.digest === record.target.digest) return !want || (record.platform !== undefined && platformMatches(want, parsePlatform(record.platform)));
  if (!(await content.has(head.digest))) return false;
  const stored = await content.readJson<{ manifests?: PlatformDescriptor[] }>(head.digest).catch(() => undefined);
  if (!stored || !Array.isArray(stored.manifests)) return false;
  const entry = stored.manifests.find((m) => platformMatches(want ?? hostPlatform(), m.platform));
  return entry?.digest === record.target.digest;
}

/** The image config's bytes: from the store, or from the registry into memory (stored only once the pull is sure). */
async function readImageConfig(content: ContentStore, client: RegistryClient, desc: Descriptor, opts: PullOptions): Promise<Buffer> {
  if (await content.has(desc.digest)) return content.read(desc.digest);
  opts.onProgress?.({ digest: desc.digest, kind: 'config', total: desc.size, done: 0, status: 'downloading' });
  return client.blobBytes(desc, CONFIG_MAX);
}

function reportStored(opts: PullOptions, desc: Descriptor, kind: BlobProgress['kind'], status: 'exists' | 'done'): void {
  opts.onProgress?.({ digest: desc.digest, kind, total: desc.size, done: desc.size, status });
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

/** Downloads one layer unless it is stored; a failure that may pass is tried again from the bytes already there. */
async function fetchLayer(content: ContentStore, client: RegistryClient, desc: Descriptor, retries: number, opts: PullOptions): Promise<void> {
  const report = (p: Omit<BlobProgress, 'digest' | 'kind' | 'total'>) => opts.onProgress?.({ digest: desc.digest, kind: 'layer', total: desc.size, ...p });
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
function diffIdsOf(imageConfig: ImageConfig, manifest: ImageManifest, name: string): string[] {
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
