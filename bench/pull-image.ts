// The pull benchmark's image, written as an OCI image layout: five gzip layers, ~100 MB of uncompressed tar,
// the same bytes on every run (every byte comes from AES-128-CTR under a fixed key, so the digests never change).
//   1: ~20k small text files (0.1-8 KB, log-uniform) in nested directories
//   2: three large files of incompressible bytes (10, 12, 14 MiB)
//   3: a mix: text files of 4-64 KB, two 2 MiB binaries, symlinks into layer 1, hard links, rewritten layer-1 files
//   4: deletions: whiteouts of layer-1 files and of one whole directory, an opaque directory refilled
//   5: a few small files
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header, type HeaderData } from 'tar';

const MTIME = new Date('2024-01-01T00:00:00Z');

/** A keystream as a deterministic source of bytes and numbers. */
class SeededBytes {
  private readonly cipher;
  private pool: Buffer = Buffer.alloc(0);
  private at = 0;

  constructor(seed: string) {
    const key = createHash('sha256').update(seed).digest();
    this.cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  bytes(n: number): Buffer {
    return this.cipher.update(Buffer.alloc(n));
  }

  /** Uniform in [0, 1). */
  next(): number {
    if (this.at + 4 > this.pool.length) {
      this.pool = this.bytes(64 * 1024);
      this.at = 0;
    }
    const v = this.pool.readUInt32LE(this.at);
    this.at += 4;
    return v / 2 ** 32;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Log-uniform in [min, max]: many small values, a few large ones, as file sizes are. */
  logUniform(min: number, max: number): number {
    return Math.round(min * (max / min) ** this.next());
  }
}

/** Text that compresses about as well as source code does: words from a small vocabulary, in lines. */
function textOf(rnd: SeededBytes, vocabulary: string[], size: number): Buffer {
  let s = '';
  while (s.length < size) {
    const words = rnd.int(3, 12);
    for (let i = 0; i < words; i++) s += vocabulary[rnd.int(0, vocabulary.length - 1)] + ' ';
    s += '\n';
  }
  return Buffer.from(s.slice(0, size));
}

class TarWriter {
  private readonly chunks: Buffer[] = [];
  entries = 0;

  private header(data: HeaderData): void {
    const h = new Header({ mode: 0o644, uid: 0, gid: 0, size: 0, mtime: MTIME, uname: '', gname: '', ...data });
    // Paths here are short, so a ustar header always holds them and no PAX header is needed.
    if (h.encode()) throw new Error(`tar header for ${data.path} would need PAX`);
    this.chunks.push(h.block!);
    this.entries++;
  }

  dir(path: string, mode = 0o755): void {
    this.header({ path: `${path}/`, type: 'Directory', mode });
  }

  file(path: string, body: Buffer, mode = 0o644): void {
    this.header({ path, type: 'File', size: body.length, mode });
    this.chunks.push(body);
    if (body.length % 512) this.chunks.push(Buffer.alloc(512 - (body.length % 512)));
  }

  symlink(path: string, target: string): void {
    this.header({ path, type: 'SymbolicLink', linkpath: target, mode: 0o777 });
  }

  hardlink(path: string, target: string): void {
    this.header({ path, type: 'Link', linkpath: target });
  }

  finish(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.alloc(1024)]);
  }
}

const TOP_DIRS = 20;
const SUB_DIRS = 25;
const FILES_PER_DIR = 40;
const smallFile = (d: number, s: number, f: number) => `usr/share/bench/d${d}/s${s}/f${f}.txt`;

function layerSmallFiles(rnd: SeededBytes, vocabulary: string[]): TarWriter {
  const t = new TarWriter();
  for (const p of ['usr', 'usr/share', 'usr/share/bench']) t.dir(p);
  for (let d = 0; d < TOP_DIRS; d++) {
    t.dir(`usr/share/bench/d${d}`);
    for (let s = 0; s < SUB_DIRS; s++) {
      t.dir(`usr/share/bench/d${d}/s${s}`);
      for (let f = 0; f < FILES_PER_DIR; f++) {
        t.file(smallFile(d, s, f), textOf(rnd, vocabulary, rnd.logUniform(100, 8192)), f % 10 === 0 ? 0o755 : 0o644);
      }
    }
  }
  return t;
}

function layerLargeFiles(rnd: SeededBytes): TarWriter {
  const t = new TarWriter();
  t.dir('opt');
  t.dir('opt/blobs');
  for (const [i, mib] of [10, 12, 14].entries()) t.file(`opt/blobs/large-${i}.bin`, rnd.bytes(mib << 20));
  return t;
}

function layerMix(rnd: SeededBytes, vocabulary: string[]): TarWriter {
  const t = new TarWriter();
  t.dir('srv');
  t.dir('srv/mix');
  t.dir('srv/mix/bin');
  t.dir('srv/mix/links');
  for (let i = 0; i < 2; i++) t.file(`srv/mix/bin/tool-${i}`, rnd.bytes(2 << 20), 0o755);
  for (let i = 0; i < 300; i++) t.file(`srv/mix/doc-${i}.txt`, textOf(rnd, vocabulary, rnd.logUniform(4096, 65536)));
  for (let i = 0; i < 1000; i++) {
    t.symlink(`srv/mix/links/sym-${i}`, `../../../${smallFile(i % TOP_DIRS, i % SUB_DIRS, i % FILES_PER_DIR)}`);
  }
  // A hard link's target must be in the same layer (image-spec layer.md), so these point at this layer's docs.
  for (let i = 0; i < 1000; i++) t.hardlink(`srv/mix/links/hard-${i}`, `srv/mix/doc-${i % 300}.txt`);
  // Files of layer 1 rewritten: the unpacker replaces what a lower layer has.
  for (let d = 0; d < TOP_DIRS; d++) {
    for (let f = 0; f < 25; f++) t.file(smallFile(d, 1, f), textOf(rnd, vocabulary, rnd.logUniform(100, 8192)));
  }
  return t;
}

function layerDeletions(rnd: SeededBytes, vocabulary: string[]): TarWriter {
  const t = new TarWriter();
  for (let d = 0; d < TOP_DIRS; d++) {
    for (let s = 2; s < 12; s++) {
      for (let f = 0; f < FILES_PER_DIR; f += 4) t.file(`usr/share/bench/d${d}/s${s}/.wh.f${f}.txt`, Buffer.alloc(0));
    }
  }
  t.file('usr/share/bench/d0/.wh.s20', Buffer.alloc(0));
  t.dir('usr/share/bench/d1/s21');
  t.file('usr/share/bench/d1/s21/.wh..wh..opq', Buffer.alloc(0));
  for (let f = 0; f < 5; f++) t.file(`usr/share/bench/d1/s21/new-${f}.txt`, textOf(rnd, vocabulary, 1000));
  return t;
}

function layerSmall(rnd: SeededBytes, vocabulary: string[]): TarWriter {
  const t = new TarWriter();
  t.dir('etc');
  t.file('etc/bench-release', Buffer.from('NAME=skiff-pull-bench\nVERSION=1\n'));
  for (let i = 0; i < 10; i++) t.file(`etc/bench-${i}.conf`, textOf(rnd, vocabulary, 2000));
  return t;
}

export interface BenchImageLayer {
  digest: string;
  /** Compressed size. */
  size: number;
  diffId: string;
  uncompressed: number;
  entries: number;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

/** Writes the image as an OCI layout at `dir` (created), its manifest named `tag`. */
export function writeBenchImage(dir: string, tag: string): BenchImageLayer[] {
  const rnd = new SeededBytes('skiff pull benchmark');
  const vocabulary = Array.from({ length: 512 }, () => rnd.bytes(rnd.int(2, 10)).toString('base64url').replace(/[-_\d]/g, 'e').toLowerCase());
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    const digest = sha256(b);
    writeFileSync(join(blobs, digest.slice(7)), b);
    return digest;
  };
  const tars = [layerSmallFiles(rnd, vocabulary), layerLargeFiles(rnd), layerMix(rnd, vocabulary), layerDeletions(rnd, vocabulary), layerSmall(rnd, vocabulary)];
  const layers = tars.map((t): BenchImageLayer => {
    const tar = t.finish();
    const gz = gzipSync(tar);
    return { digest: put(gz), size: gz.length, diffId: sha256(tar), uncompressed: tar.length, entries: t.entries };
  });
  const config = Buffer.from(JSON.stringify({
    created: MTIME.toISOString(), architecture: goArch[process.arch] ?? process.arch, os: 'linux',
    config: { Cmd: ['/bin/sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  }));
  const index = {
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return layers;
}
