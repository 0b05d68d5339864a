// The messages between an unpack (main thread: decompress, hash, parse) and the layer writer thread (every
// file-system call). A layer travels as batches of operations in tar order; file contents go in one transferred
// buffer per batch, so nothing is copied twice and no slice drags its whole backing store along.
import type { LayerEntry } from './layer-writer.js';

export type LayerOp =
  /** An entry; a regular file's content follows as `data` operations, then `end`. */
  | { op: 'entry'; entry: LayerEntry; xattrs: [string, Uint8Array][] }
  /** Bytes [offset, offset+length) of the batch's buffer, for the open file. */
  | { op: 'data'; offset: number; length: number }
  | { op: 'end' };

export type ToWriter =
  | { kind: 'open'; id: number; dir: string; lowers: string[] }
  | { kind: 'batch'; id: number; ops: LayerOp[]; data: ArrayBuffer }
  /** Everything is sent: make the nodes and xattrs, set the directories' times. */
  | { kind: 'finish'; id: number }
  /** The unpack failed: close what is open and forget the layer. */
  | { kind: 'abort'; id: number };

export type FromWriter =
  | { kind: 'applied'; id: number; bytes: number }
  | { kind: 'failed'; id: number; message: string; code?: string; entry?: string }
  | { kind: 'finished'; id: number }
  | { kind: 'aborted'; id: number };

/** Collects operations and the file contents they refer to until `take()` hands them over as one batch. */
export class OpBatch {
  private ops: LayerOp[] = [];
  private chunks: Buffer[] = [];
  private bytes = 0;

  get size(): number {
    return this.bytes;
  }

  get empty(): boolean {
    return this.ops.length === 0;
  }

  push(op: LayerOp): void {
    this.ops.push(op);
  }

  /** Content of the open file; adjacent chunks of one file become one operation. */
  data(chunk: Buffer): void {
    const last = this.ops[this.ops.length - 1];
    if (last?.op === 'data' && last.offset + last.length === this.bytes) last.length += chunk.length;
    else this.ops.push({ op: 'data', offset: this.bytes, length: chunk.length });
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  take(): { ops: LayerOp[]; data: ArrayBuffer } {
    const data = new ArrayBuffer(this.bytes);
    const view = new Uint8Array(data);
    let at = 0;
    for (const c of this.chunks) {
      view.set(c, at);
      at += c.length;
    }
    const ops = this.ops;
    this.ops = [];
    this.chunks = [];
    this.bytes = 0;
    return { ops, data };
  }
}
