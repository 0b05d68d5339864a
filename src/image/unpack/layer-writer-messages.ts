// The messages between an unpack (main thread: read the blob, decompress, hash) and the layer writer thread (read
// the tar, make every file). The tar stream goes over as it is decompressed, a chunk per message, each chunk's
// memory transferred rather than copied where the chunk has its buffer to itself.

export type ToWriter =
  | { kind: 'open'; id: number; dir: string; lowers: string[] }
  | { kind: 'data'; id: number; chunk: Uint8Array }
  /** The stream is over: check that it ended cleanly, make the nodes and xattrs, set the directories' times. */
  | { kind: 'end'; id: number }
  /** The unpack failed: close what is open and forget the layer. */
  | { kind: 'abort'; id: number };

export type FromWriter =
  | { kind: 'applied'; id: number; bytes: number }
  /** `message` names the entry it happened at. */
  | { kind: 'failed'; id: number; message: string; code?: string }
  | { kind: 'finished'; id: number }
  | { kind: 'aborted'; id: number };
