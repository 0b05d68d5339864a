// Unpacks one layer blob into a directory: decompress, hash the uncompressed tar (its digest must be the
// config's diff_id) and parse it with node-tar here, while the layer writer thread applies the entries (LayerWriter)
// as they come: the file-system calls are most of the work, and this way they use a second core.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { SkiffError } from '../../common/errors.js';
import { decompressor, type Compression } from './decompress.js';
import type { LayerEntry } from './layer-writer.js';
import { ThreadedLayerWriter } from './layer-writer-thread.js';
import { XattrReader } from './pax-xattrs.js';

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

/** Returns the uncompressed digest. Throws an error naming the layer and the entry; `dest` is then half written. */
export async function unpackLayer(o: UnpackLayerOptions): Promise<string> {
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const xattrs = new XattrReader();
  let failure: Error | undefined;
  // Not strict: node-tar then reports every problem (bad checksum, invalid entry) as a 'warn' event, and an
  // unrecoverable one (truncated input) as 'error'; both fail the unpack here, naming the entry.
  const parser = new Parser();
  const fail = (err: unknown, entry?: string) => {
    if (failure) return;
    const msg = err instanceof Error ? err.message : String(err);
    failure = new SkiffError(entry && !msg.includes(entry) ? `${o.what}: entry "${entry}": ${msg}` : `${o.what}: ${msg}`,
      (err as SkiffError).code ?? 'EINVAL');
    parser.abort(failure);
  };
  const writer = new ThreadedLayerWriter(o.dest, o.lowers ?? [], fail);
  parser.on('entry', (entry: ReadEntry) => {
    const attrs = xattrs.next();
    if (failure) {
      entry.resume();
      return;
    }
    const e: LayerEntry = {
      path: entry.path, type: entry.type, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime,
      atime: entry.atime, linkpath: entry.linkpath, devmaj: entry.header.devmaj, devmin: entry.header.devmin,
    };
    const sink = writer.entry(e, attrs);
    if (!sink) {
      entry.resume();
      return;
    }
    entry.on('data', (chunk: Buffer) => sink.write(chunk));
    entry.on('end', () => sink.end());
  });
  parser.on('ignoredEntry', (entry: ReadEntry) => fail(new Error(`entry type ${entry.type} is not supported in a layer`), entry.path));
  parser.on('warn', (_code: string, message: string | Error) => fail(message));
  parser.on('error', (err: Error) => fail(err));
  // node-tar's Parser handles each chunk synchronously, entries included, so a chunk's entries are all queued
  // when write returns; the writer thread's errors arrive later and abort the parser then.
  const toParser = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parser.write(chunk);
      writer.flush(() => cb(failure));
    },
    final(cb) {
      parser.end();
      writer.flush(() => cb(failure));
    },
  });
  try {
    await pipeline(createReadStream(o.blob, { highWaterMark: 1024 * 1024 }), decompressor(o.compression, o.what), hasher, xattrs, toParser);
    await writer.finish();
  } catch (err) {
    await writer.abort();
    if (failure) throw failure;
    throw new SkiffError(`${o.what}: corrupt or truncated: ${(err as Error).message}`, (err as SkiffError).code ?? 'EINVAL');
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (o.diffId && digest !== o.diffId) {
    throw new SkiffError(`${o.what}: uncompressed content has digest ${digest}, the image config says ${o.diffId}`, 'EINVAL');
  }
  return digest;
}
