// Reading the files of archives and of the content store for load and save, in large chunks.
import { createReadStream } from 'node:fs';

export const READ_CHUNK = 1024 * 1024;

/**
 * A file's bytes, its read stream made only when they are first asked for. A stream given an AbortSignal is
 * destroyed by the abort with an 'error' event (stream.addAbortSignal); one made before anything listens to it (while
 * a tar header is written, or an ingest file opened) takes the process down with an unhandled 'error' instead of
 * failing the operation, and an interrupted save or load then dies of that rather than of its signal.
 */
export async function* fileChunks(path: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  yield* createReadStream(path, { highWaterMark: READ_CHUNK, signal });
}
