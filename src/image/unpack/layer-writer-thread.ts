// The main thread's end of the layer writer thread (layer-writer-worker.ts): one worker per process, started by the
// first unpack (or earlier, by warmUp) and kept for the next ones, not keeping the process alive between them. Each
// unpack streams its tar through a ThreadedLayerWriter, which holds the stream back while too much is queued.
import { Worker } from 'node:worker_threads';
import { SkiffError } from '../../common/errors.js';
import type { FromWriter, ToWriter } from './layer-writer-messages.js';

/** Bytes sent and not yet applied before the stream waits: bounds the memory a fast decompressor can fill. */
const MAX_QUEUED = 8 << 20;

let thread: Worker | undefined;
let nextId = 1;
const writers = new Map<number, ThreadedLayerWriter>();

function writerThread(): Worker {
  if (!thread) {
    // The same relative path from the bundle (dist/bin, where scripts/bundle.mjs puts the worker) and from tsc's output.
    const t = new Worker(new URL('./layer-writer-worker.js', import.meta.url));
    t.on('message', (r: FromWriter) => writers.get(r.id)?.receive(r));
    t.on('error', (err) => {
      for (const w of writers.values()) w.threadDied(err);
    });
    t.on('exit', (code) => {
      if (thread === t) thread = undefined;
      for (const w of writers.values()) w.threadDied(new Error(`the layer writer thread exited with status ${code}`));
    });
    t.unref();
    thread = t;
  }
  return thread;
}

/** Starts the thread ahead of the first unpack, so that its start-up overlaps the download. */
export function warmUpLayerWriter(): void {
  writerThread();
}

function send(m: ToWriter, transfer: ArrayBuffer[] = []): void {
  const t = writerThread();
  t.ref();
  t.postMessage(m, transfer);
}

/** The layer is done with; an idle thread does not keep the process alive. */
function release(id: number): void {
  writers.delete(id);
  if (writers.size === 0) thread?.unref();
}

/**
 * A chunk whose buffer is its own can be handed over; one that shares its buffer (zlib writes its next output
 * into the rest of the same one) is copied. Node's pooled buffers hold at most 4 KiB each, never a whole pool.
 */
function transferable(chunk: Buffer): Uint8Array {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer) return chunk;
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return copy;
}

/** One layer's tar stream, applied by the writer thread into `dir`. */
export class ThreadedLayerWriter {
  private readonly id = nextId++;
  private queued = 0;
  private waiting: ((err?: Error) => void) | undefined;
  private done: { resolve: () => void; reject: (err: Error) => void } | undefined;
  /** The writer thread's first error, its message naming the entry. */
  failure: SkiffError | undefined;

  constructor(dir: string, lowers: string[]) {
    writers.set(this.id, this);
    send({ kind: 'open', id: this.id, dir, lowers });
  }

  /** Sends the next chunk (after which `chunk` is empty); `next` is called once the thread has caught up enough. */
  write(chunk: Buffer, next: (err?: Error) => void): void {
    if (this.failure) return next(this.failure);
    const data = transferable(chunk);
    this.queued += data.byteLength;
    send({ kind: 'data', id: this.id, chunk: data }, [data.buffer as ArrayBuffer]);
    if (this.queued <= MAX_QUEUED) next();
    else this.waiting = next;
  }

  /** Resolves when every entry is applied and the layer finished (nodes, xattrs, directory times). */
  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.done = { resolve, reject };
      send({ kind: 'end', id: this.id });
    });
  }

  /** After a failure: stops the writer and waits until nothing more is written into the layer. */
  abort(): Promise<void> {
    if (!writers.has(this.id)) return Promise.resolve();
    return new Promise((resolve) => {
      this.done = { resolve, reject: () => resolve() };
      send({ kind: 'abort', id: this.id });
    });
  }

  receive(m: FromWriter): void {
    switch (m.kind) {
      case 'applied':
        this.queued -= m.bytes;
        if (this.waiting && this.queued <= MAX_QUEUED) this.wake();
        return;
      case 'failed':
        this.fail(new SkiffError(m.message, m.code ?? 'EIO'));
        return;
      case 'finished':
      case 'aborted':
        release(this.id);
        this.done?.resolve();
    }
  }

  threadDied(err: Error): void {
    release(this.id);
    this.fail(new SkiffError(err.message, 'EIO'));
    this.done?.resolve();
  }

  private wake(err?: Error): void {
    const next = this.waiting;
    this.waiting = undefined;
    next?.(err);
  }

  private fail(err: SkiffError): void {
    if (this.failure) return;
    this.failure = err;
    this.done?.reject(err);
    this.wake(err);
  }
}
