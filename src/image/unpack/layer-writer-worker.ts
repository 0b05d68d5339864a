// The layer writer thread: applies the batches of tar operations an unpack sends (layer-ops.ts) with LayerWriter,
// in order, one layer or several (each under its id). Its file-system calls are most of an unpack's time; here
// they run beside the main thread's decompressing, hashing and parsing instead of after it.
import { parentPort } from 'node:worker_threads';
import type { FromWriter, LayerOp, ToWriter } from './layer-ops.js';
import { LayerWriter, type FileSink } from './layer-writer.js';

interface Layer {
  writer: LayerWriter;
  /** The regular file being written (none for a whiteout, which is a regular file in the tar). */
  file?: FileSink;
  /** The entry being applied, for errors. */
  entry?: string;
  failed: boolean;
}

const layers = new Map<number, Layer>();
const post = (m: FromWriter) => parentPort!.postMessage(m);

function fail(id: number, layer: Layer, err: unknown): void {
  layer.failed = true;
  const e = err as NodeJS.ErrnoException;
  post({ kind: 'failed', id, message: e.message ?? String(err), code: e.code, entry: layer.entry });
}

function apply(layer: Layer, ops: LayerOp[], data: ArrayBuffer): void {
  for (const op of ops) {
    switch (op.op) {
      case 'entry':
        layer.entry = op.entry.path;
        layer.file = layer.writer.apply(op.entry, new Map(op.xattrs.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.length)])));
        break;
      case 'data':
        layer.file?.write(Buffer.from(data, op.offset, op.length));
        break;
      case 'end': {
        const file = layer.file;
        layer.file = undefined;
        file?.end();
        break;
      }
    }
  }
}

parentPort!.on('message', async (m: ToWriter) => {
  if (m.kind === 'open') {
    const layer: Layer = { writer: undefined!, failed: false };
    layers.set(m.id, layer);
    try {
      layer.writer = new LayerWriter(m.dir, m.lowers);
    } catch (err) {
      fail(m.id, layer, err);
    }
    return;
  }
  const layer = layers.get(m.id);
  if (!layer) return;
  switch (m.kind) {
    case 'batch':
      if (!layer.failed) {
        try {
          apply(layer, m.ops, m.data);
        } catch (err) {
          fail(m.id, layer, err);
        }
      }
      post({ kind: 'applied', id: m.id, bytes: m.data.byteLength });
      return;
    case 'finish':
      if (layer.failed) return;
      layer.entry = undefined;
      try {
        await layer.writer.finish();
        layers.delete(m.id);
        post({ kind: 'finished', id: m.id });
      } catch (err) {
        fail(m.id, layer, err);
      }
      return;
    case 'abort':
      layers.delete(m.id);
      try {
        layer.file?.abandon();
      } finally {
        post({ kind: 'aborted', id: m.id });
      }
  }
});
