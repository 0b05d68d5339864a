// The layer writer thread: reads the tar streams unpacks send it (layer-writer-messages.ts) and applies each entry
// with LayerWriter, one layer or several (each under its id). Parsing and the file-system calls are most of an
// unpack's time; here they run beside the main thread's downloading, decompressing and hashing.
import { parentPort } from 'node:worker_threads';
import type { FromWriter, ToWriter } from './layer-writer-messages.js';
import { LayerWriter } from './layer-writer.js';
import { TarReader } from './tar-reader.js';

interface Layer {
  writer?: LayerWriter;
  reader?: TarReader;
  failed: boolean;
}

const layers = new Map<number, Layer>();
const post = (m: FromWriter) => parentPort!.postMessage(m);

/** Reports the first failure of a layer, naming the entry it happened at unless the message already does. */
function fail(id: number, layer: Layer, err: unknown): void {
  if (layer.failed) return;
  layer.failed = true;
  layer.reader?.abandon();
  const e = err as NodeJS.ErrnoException;
  const message = e.message ?? String(err);
  const entry = layer.reader?.current;
  post({ kind: 'failed', id, message: entry && !message.includes(`"${entry}"`) ? `entry "${entry}": ${message}` : message, code: e.code });
}

parentPort!.on('message', async (m: ToWriter) => {
  if (m.kind === 'open') {
    const layer: Layer = { failed: false };
    layers.set(m.id, layer);
    try {
      const writer = new LayerWriter(m.dir, m.lowers);
      layer.writer = writer;
      layer.reader = new TarReader((header, xattrs) => writer.apply(header, xattrs));
    } catch (err) {
      fail(m.id, layer, err);
    }
    return;
  }
  const layer = layers.get(m.id);
  if (!layer) return;
  switch (m.kind) {
    case 'data':
      if (!layer.failed) {
        try {
          layer.reader!.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
        } catch (err) {
          fail(m.id, layer, err);
        }
      }
      post({ kind: 'applied', id: m.id, bytes: m.chunk.byteLength });
      return;
    case 'end':
      if (layer.failed) return;
      try {
        layer.reader!.end();
        await layer.writer!.finish();
        layers.delete(m.id);
        post({ kind: 'finished', id: m.id });
      } catch (err) {
        fail(m.id, layer, err);
      }
      return;
    case 'abort':
      layers.delete(m.id);
      layer.reader?.abandon();
      post({ kind: 'aborted', id: m.id });
  }
});
