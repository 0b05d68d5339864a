// The main thread's end of the layer writer thread (layer-writer-worker.ts): one worker per process, started on the
// first unpack and kept for the next ones, not keeping the process alive between them. Each unpack talks to it
// through a ThreadedLayerWriter, which batches its entries and holds the parser back while too much is queued.
import { Worker } from 'node:worker_threads';
import { SkiffError } from '../../common/errors.js';
import { OpBatch, type FromWriter, type ToWriter } from './layer-ops.js';
import type { LayerEntry } from './layer-writer.js';
import type { Xattrs } from './pax-xattrs.js';

/** Bytes sent and not yet written before the parser waits: bounds the memory a fast decompressor can fill. */
const MAX_QUEUED = 16 << 20;

let thread: Worker | undefined;
let nextId = 1;
const writers = new Map<number, ThreadedLayerWriter>();

function send(m: ToWriter, transfer: ArrayBuffer[] = []): void {
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
    thread = t;
  }
  thread.ref();
  thread.postMessage(m, transfer);
}

/** The layer is done with; an idle thread does not keep the process alive. */
function release(id: number): void {
  writers.delete(id);
  if (writers.size === 0) thread?.unref();
}

/** What LayerWriter.apply does, on the writer thread: errors come back later through `onFailure`. */
export class ThreadedLayerWriter {
  private readonly id = nextId++;
  private batch = new OpBatch();
  private queued = 0;
  private waiting: (() => void) | undefined;
  private done: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;

  /** `onFailure` is told the first error, with the entry it happened at. */
  constructor(dir: string, lowers: string[], private readonly onFailure: (err: Error, entry?: string) => void) {
    writers.set(this.id, this);
    send({ kind: 'open', id: this.id, dir, lowers });
  }

  /** Queues an entry; for a regular file returns where its content goes. */
  entry(e: LayerEntry, xattrs: Xattrs): { write(chunk: Buffer): void; end(): void } | undefined {
    this.batch.push({ op: 'entry', entry: e, xattrs: [...xattrs].map(([k, v]) => [k, new Uint8Array(v)]) });
    if (e.type !== 'File' && e.type !== 'OldFile' && e.type !== 'ContiguousFile') return undefined;
    return { write: (chunk) => this.batch.data(chunk), end: () => this.batch.push({ op: 'end' }) };
  }

  /** Sends what is queued, then calls `next` once the writer has caught up enough. */
  flush(next: () => void): void {
    if (!this.batch.empty) {
      const { ops, data } = this.batch.take();
      this.queued += data.byteLength;
      send({ kind: 'batch', id: this.id, ops, data }, [data]);
    }
    if (this.queued <= MAX_QUEUED || this.failure) next();
    else this.waiting = next;
  }

  /** Resolves when every entry is applied and the layer finished (nodes, xattrs, directory times). */
  finish(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.done = { resolve, reject };
      this.flush(() => send({ kind: 'finish', id: this.id }));
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
        if (this.waiting && this.queued <= MAX_QUEUED) {
          const next = this.waiting;
          this.waiting = undefined;
          next();
        }
        return;
      case 'failed':
        this.fail(new SkiffError(m.message, m.code ?? 'EIO'), m.entry);
        return;
      case 'finished':
      case 'aborted':
        release(this.id);
        this.done?.resolve();
    }
  }

  threadDied(err: Error): void {
    release(this.id);
    this.fail(err);
    this.done?.resolve();
  }

  private fail(err: Error, entry?: string): void {
    if (this.failure) return;
    this.failure = err;
    this.onFailure(err, entry);
    this.done?.reject(err);
    const next = this.waiting;
    this.waiting = undefined;
    next?.();
  }
}
