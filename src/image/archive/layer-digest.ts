// The uncompressed digest of a blob that may be a layer, computed from the bytes as they stream into the content
// store: an archive is read once, and which of its members are layers, and how they say they are compressed, is
// often known only from a manifest that comes later in the tar. So the compression is told by the first bytes,
// the decompressed bytes are hashed and dropped, and the caller compares with the media type and diff_id later.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Compression } from '../media-types.js';
import { decompressor, sniffCompression } from '../unpack/decompress.js';

export interface LayerDigest {
  /** What the first bytes say. */
  compression: Compression;
  /** sha256 of the decompressed bytes (for 'none', the blob's own digest, filled in by the caller). */
  diffId?: string;
  /** Why decompressing failed: not a layer, or a damaged one (an error only if a manifest calls it a layer). */
  error?: string;
}

/** A gzip stream is at least 18 bytes and a zstd frame 9: fewer than 4 first bytes cannot be either. */
const MAGIC_BYTES = 4;

export class LayerDigester {
  private head: Buffer[] = [];
  private headBytes = 0;
  private compression: Compression | undefined;
  private stream: Duplex | undefined;
  private readonly hash = createHash('sha256');
  private error: string | undefined;

  constructor(private readonly what: string) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.compression === undefined) {
      this.head.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.headBytes += chunk.length;
      if (this.headBytes < MAGIC_BYTES) return;
      await this.start();
    } else {
      await this.feed(chunk);
    }
  }

  async end(): Promise<LayerDigest> {
    if (this.compression === undefined) await this.start();
    const stream = this.stream;
    if (!stream || this.error) return this.result();
    stream.end();
    await finished(stream).catch((err: Error) => (this.error ??= err.message));
    return this.result();
  }

  /** Stops decompressing (the blob failed to store): no zstd process outlives the load. */
  abort(): void {
    this.stream?.destroy();
  }

  private async start(): Promise<void> {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.compression = head.length < MAGIC_BYTES ? 'none' : sniffCompression(head);
    if (this.compression === 'none') return;
    const stream = decompressor(this.compression, this.what);
    stream.on('data', (c: Buffer) => this.hash.update(c));
    stream.on('error', (err: Error) => (this.error ??= err.message));
    this.stream = stream;
    await this.feed(head);
  }

  private async feed(chunk: Uint8Array): Promise<void> {
    const stream = this.stream;
    if (!stream || this.error) return;
    if (!stream.write(chunk)) await once(stream, 'drain').catch((err: Error) => (this.error ??= err.message));
  }

  private result(): LayerDigest {
    const compression = this.compression!;
    if (this.error) return { compression, error: this.error };
    return compression === 'none' ? { compression } : { compression, diffId: `sha256:${this.hash.digest('hex')}` };
  }
}
