// Unpacks one layer blob into a directory: decompress and hash the uncompressed tar here (its digest must be the
// config's diff_id), while the layer writer thread reads the tar and applies each entry (LayerWriter) as the bytes
// come: the file-system calls are most of the work, and this way they have a core of their own.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../../common/errors.js';
import { decompressor, type Compression } from './decompress.js';
import { ThreadedLayerWriter, warmUpLayerWriter } from './layer-writer-thread.js';

export interface UnpackLayerOptions {
  /** The compressed blob on disk. */
  blob: string;
  compression: Compression;
  /** Empty directory the layer is written into. */
  dest: string;
  /** sha256:... the uncompressed tar must have (the config's rootfs.diff_ids entry). */
  diffId?: string;
  /** The layers below, top first: a hard link to a file of theirs is materialized in this one. */
  lowers?: string[];
  /** Names the layer in errors: "layer sha256:ab12... (rootfs.diff_ids[2])". */
  what: string;
}

/** For a caller about to unpack: starts the writer thread now, so that its start-up is not on the unpack's path. */
export const warmUpUnpacking = warmUpLayerWriter;

/** Returns the uncompressed digest. Throws an error naming the layer and the entry; `dest` is then half written. */
export async function unpackLayer(o: UnpackLayerOptions): Promise<string> {
  const hash = createHash('sha256');
  const writer = new ThreadedLayerWriter(o.dest, o.lowers ?? []);
  const toWriter = new Writable({
    write(chunk: Buffer, _enc, cb) {
      // Before the chunk goes: sending it may hand its memory over to the writer thread.
      hash.update(chunk);
      writer.write(chunk, cb);
    },
    final(cb) {
      writer.end().then(() => cb(), cb);
    },
  });
  try {
    await pipeline(createReadStream(o.blob, { highWaterMark: 1024 * 1024 }), decompressor(o.compression, o.what), toWriter);
  } catch (err) {
    await writer.abort();
    if (writer.failure) throw new SkiffError(`${o.what}: ${writer.failure.message}`, writer.failure.code);
    throw new SkiffError(`${o.what}: corrupt or truncated: ${(err as Error).message}`, (err as SkiffError).code ?? 'EINVAL');
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (o.diffId && digest !== o.diffId) {
    throw new SkiffError(`${o.what}: uncompressed content has digest ${digest}, the image config says ${o.diffId}`, 'EINVAL');
  }
  return digest;
}
