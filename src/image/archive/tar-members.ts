// An archive file (a tar, or a gzipped one as `docker save | gzip` makes) read once from start to end. The
// order of members is the writer's (skopeo puts blobs/ before index.json, docker puts manifest.json last), so
// nothing can wait for the document that says what a member is: small members outside blobs/ (manifest.json,
// index.json, a docker-archive's <id>.json) are kept as bytes, every other member goes into the content store as
// it is read. Nothing is extracted anywhere else.
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { SkiffError } from '../../common/errors.js';
import type { ContentStore } from '../content-store.js';
import { READ_CHUNK } from './file-chunks.js';
import { MAX_JSON_BYTES, memberPath, storeMember, tooLarge, type ArchiveMembers, type StoredBlob } from './members.js';

/** Kept as bytes: JSON documents are far smaller; past this a member goes to the content store. */
const SMALL_MEMBER = 1024 * 1024;
/** At most this much is kept as bytes in all; later small members go to the content store too. */
const SMALL_TOTAL = 64 * 1024 * 1024;
/** Links followed from one member to the next before giving up (a loop). */
const MAX_LINKS = 16;
const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);

export async function readTarMembers(content: ContentStore, file: string, input: string, signal?: AbortSignal): Promise<ArchiveMembers> {
  const small = new Map<string, Buffer>();
  const stored = new Map<string, StoredBlob>();
  const links = new Map<string, string>();
  let keptBytes = 0;
  // Stops the read at the first failure (or the caller's abort), including a member waiting for its next chunk.
  const stop = new AbortController();
  const fail = (err: unknown) => stop.abort(err);
  const onAbort = () => fail(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });

  const member = async (entry: ReadEntry): Promise<void> => {
    const path = memberPath(entry.path);
    if (!path || stop.signal.aborted) return void entry.resume();
    small.delete(path);
    stored.delete(path);
    links.delete(path);
    if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
      const target = linkTarget(entry, path);
      if (target) links.set(path, target);
      return void entry.resume();
    }
    if (!REGULAR.has(entry.type)) return void entry.resume();
    const body = chunksOf(entry, stop.signal);
    if (!path.startsWith('blobs/') && entry.size <= SMALL_MEMBER && keptBytes + entry.size <= SMALL_TOTAL) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      small.set(path, Buffer.concat(chunks));
      keptBytes += entry.size;
    } else {
      stored.set(path, await storeMember(content, body, path, entry.size, input));
    }
  };

  let current: ReadEntry | undefined;
  let work = Promise.resolve();
  // Compression is undone here, not by the parser: its gunzip pushes all it inflates from a chunk at once, which a
  // layer of zeros turns into a thousand times the chunk in memory.
  const parser = new Parser({ strict: true, zstd: false, brotli: false });
  parser.on('entry', (entry: ReadEntry) => {
    // Entries come one after another, but the next may be announced while the last is still being stored.
    work = work.then(() => {
      current = entry;
      return member(entry);
    }).catch(fail);
  });
  // Every tar writer ends with two zero blocks; an archive cut between two members shows only by their absence.
  let sawEnd = false;
  parser.on('eof', () => (sawEnd = true));
  parser.on('error', (err: Error & { entry?: ReadEntry }) => {
    const at = err.entry?.path ?? current?.path;
    fail(new SkiffError(`${input}: not a readable tar archive${at ? ` (at ${at})` : ''}: ${err.message.replace(/^TAR_[A-Z_]+: /, '')}`, 'EINVAL'));
  });

  const { source, gzipped } = await openArchive(file);
  try {
    for await (const chunk of source) {
      if (stop.signal.aborted) break;
      if (!parser.write(chunk as Buffer)) await once(parser, 'drain', { signal: stop.signal });
    }
    if (!stop.signal.aborted) {
      // end() may emit 'end' before it returns.
      const ended = once(parser, 'end', { signal: stop.signal });
      parser.end();
      await ended;
      if (!sawEnd) fail(new SkiffError(`${input}: not a readable tar archive: it stops before its end-of-archive blocks (truncated?)`, 'EINVAL'));
    }
  } catch (err) {
    const zlib = gzipped && /^Z_/.test(String((err as NodeJS.ErrnoException).code));
    fail(zlib ? new SkiffError(`${input}: not a readable gzip stream: ${(err as Error).message}`, 'EINVAL') : err);
  } finally {
    source.destroy();
    signal?.removeEventListener('abort', onAbort);
  }
  await work;
  if (stop.signal.aborted) throw stop.signal.reason;

  const resolve = (path: string): string | undefined => {
    let p = memberPath(path);
    for (let n = 0; p !== undefined && links.has(p) && n < MAX_LINKS; n++) p = links.get(p);
    return p !== undefined && (small.has(p) || stored.has(p)) ? p : undefined;
  };
  // Small members are stored only when a document says they are a blob (a docker-archive's config).
  const storedSmall = new Map<string, Promise<StoredBlob>>();
  return {
    input,
    has: async (path) => resolve(path) !== undefined,
    bytes: async (path) => {
      const p = resolve(path);
      if (p === undefined) return undefined;
      const kept = small.get(p);
      if (kept) return kept;
      const blob = stored.get(p)!;
      if (blob.size > MAX_JSON_BYTES) throw tooLarge(input, p, blob.size);
      return content.read(blob.digest);
    },
    blob: async (path) => {
      const p = resolve(path);
      if (p === undefined) return undefined;
      const blob = stored.get(p);
      if (blob) return blob;
      let job = storedSmall.get(p);
      if (!job) {
        const bytes = small.get(p)!;
        storedSmall.set(p, (job = storeMember(content, [bytes], p, bytes.length, input)));
      }
      return job;
    },
  };
}

/**
 * The member a link points at: a hard link names a member of the archive, a symlink is relative to its own
 * directory (docker save links a layer.tar it has already written); undefined for one that leaves the archive.
 */
function linkTarget(entry: ReadEntry, path: string): string | undefined {
  const to = entry.linkpath ?? '';
  if (entry.type === 'Link') return memberPath(to);
  return to.startsWith('/') ? undefined : memberPath(posix.join(posix.dirname(path), to));
}

/** The archive's bytes as a tar: a gzipped one (docker save | gzip) inflated as it is read. */
async function openArchive(file: string): Promise<{ source: Readable; gzipped: boolean }> {
  const head = Buffer.alloc(2);
  const fh = await open(file, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const source = createReadStream(file, { highWaterMark: READ_CHUNK });
  if (head[0] !== 0x1f || head[1] !== 0x8b) return { source, gzipped: false };
  // pipeline() destroys both on an error, which reaches the reader through the gunzip stream.
  return { source: pipeline(source, createGunzip({ chunkSize: 256 * 1024 }), () => {}), gzipped: true };
}

/**
 * An entry's data as it arrives, ending with the entry or failing when the read stops: node-tar's entries are
 * paused streams that hold the parser back until read, which keeps memory to about one read chunk.
 */
async function* chunksOf(entry: ReadEntry, stop: AbortSignal): AsyncGenerator<Buffer> {
  const it = entry[Symbol.asyncIterator]();
  for (;;) {
    const r = await untilAborted(it.next(), stop);
    if (r.done) return;
    yield r.value as Buffer;
  }
}

/**
 * `p`, or a rejection when `signal` aborts first. The listener is removed each time: a Promise.race against one
 * long-lived promise would keep every chunk it ever raced alive.
 */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
