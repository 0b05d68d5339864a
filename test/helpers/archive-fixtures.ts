// Archives for load tests, made or altered one document at a time: OCI layouts as skopeo and umoci leave them on
// disk (rewritten with a changed config, manifest or layer, every digest that refers to it updated), docker-
// archives from their members, and big ones written as a stream (a layer of 1 GiB is never in the test's memory).
import { spawnSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { Header } from 'tar';

export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const hexOf = (digest: string) => digest.slice('sha256:'.length);

export function zstd(data: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-c'], { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
  return r.stdout;
}

interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }
interface Json { [key: string]: unknown }

/** An OCI layout directory, read and rewritten through its index.json. */
export class Layout {
  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', hexOf(digest));
  }

  readJson<T = Json>(digest: string): T {
    return JSON.parse(readFileSync(this.blobPath(digest), 'utf8')) as T;
  }

  index(): { manifests: Descriptor[] } & Json {
    return JSON.parse(readFileSync(join(this.dir, 'index.json'), 'utf8'));
  }

  /** Writes a blob; returns its descriptor. */
  put(bytes: Buffer, mediaType: string): Descriptor {
    const digest = sha256(bytes);
    writeFileSync(this.blobPath(digest), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** The first image of index.json, its manifest and config. */
  image(): { entry: Descriptor; manifest: { config: Descriptor; layers: Descriptor[] } & Json; config: Json } {
    const entry = this.index().manifests[0];
    const manifest = this.readJson<{ config: Descriptor; layers: Descriptor[] } & Json>(entry.digest);
    return { entry, manifest, config: this.readJson(manifest.config.digest) };
  }

  /**
   * Rewrites the first image: `config` bytes (or the config as changed by `patchConfig`), then `patchManifest`, and
   * index.json pointing at the new manifest.
   */
  rewrite(opts: { config?: Buffer; patchConfig?: (c: Json) => void; patchManifest?: (m: { config: Descriptor; layers: Descriptor[] } & Json) => void }): void {
    const { entry, manifest, config } = this.image();
    opts.patchConfig?.(config);
    const configBytes = opts.config ?? Buffer.from(JSON.stringify(config));
    manifest.config = this.put(configBytes, manifest.config.mediaType);
    opts.patchManifest?.(manifest);
    const m = this.put(Buffer.from(JSON.stringify(manifest)), entry.mediaType);
    const index = this.index();
    index.manifests[0] = { ...entry, digest: m.digest, size: m.size };
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify(index));
  }
}

/** A tar header block, as node-tar encodes it. */
function header(path: string, size: number, type: 'File' | 'Directory' = 'File'): Buffer {
  const block = Buffer.alloc(512);
  new Header({ path, size, type, mode: type === 'File' ? 0o644 : 0o755, mtime: new Date(0), uid: 0, gid: 0 }).encode(block, 0);
  return block;
}
const padding = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

/** The bytes of a layer tar holding one file of `size` zero bytes, in pieces. */
function* zeroLayer(size: number): Generator<Buffer> {
  yield header('big', size);
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let left = size; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  yield padding(size);
  yield Buffer.alloc(1024);
}

const CONFIG = (diffId: string) => Buffer.from(JSON.stringify({
  architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] },
}));

/**
 * A docker-archive whose one layer is an uncompressed tar holding a file of `size` zero bytes, as docker save
 * writes it (layer first, manifest.json last), streamed to `file`.
 */
export function writeBigDockerArchive(file: string, size: number, repoTag: string): void {
  const layerSize = 512 + size + padding(size).length + 1024;
  const fd = openSync(file, 'w');
  try {
    const hash = createHash('sha256');
    writeSync(fd, header('layer.tar', layerSize));
    for (const b of zeroLayer(size)) {
      hash.update(b);
      writeSync(fd, b);
    }
    const config = CONFIG(`sha256:${hash.digest('hex')}`);
    const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: [repoTag], Layers: ['layer.tar'] }]));
    for (const [path, data] of [['config.json', config], ['manifest.json', manifest]] as const) writeSync(fd, Buffer.concat([header(path, data.length), data, padding(data.length)]));
    writeSync(fd, Buffer.alloc(1024));
  } finally {
    closeSync(fd);
  }
}

/** An OCI layout directory whose one layer is a gzipped tar holding a file of `size` zero bytes (about size/1000 compressed). */
export async function writeBigGzipLayout(dir: string, size: number, name: string): Promise<void> {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const tmp = join(dir, 'layer.tmp');
  const diff: Hash = createHash('sha256');
  const fd = openSync(tmp, 'w');
  const gzip = createGzip({ level: 1 });
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('data', (c: Buffer) => writeSync(fd, c)).on('end', resolve).on('error', reject);
  });
  for (const b of zeroLayer(size)) {
    diff.update(b);
    if (!gzip.write(b)) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await done;
  closeSync(fd);
  const layout = new Layout(dir);
  const layer = layout.put(readFileSync(tmp), 'application/vnd.oci.image.layer.v1.tar+gzip');
  rmSync(tmp);
  const config = layout.put(CONFIG(`sha256:${diff.digest('hex')}`), 'application/vnd.oci.image.config.v1+json');
  const manifest = layout.put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] })), 'application/vnd.oci.image.manifest.v1+json');
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': name } }] }));
}
