// docker cp, both ways: a container's file or directory to a host path or to a tar stream, and a host file or
// directory, or a tar stream, into a container. What goes where follows docker's rules (moby pkg/archive
// CopyInfoDestinationPath and PrepareArchiveCopy): into a directory that exists under the source's name, over a
// file that exists under its name, and to a path that does not exist under that path's name; a trailing "/." copies
// a directory's contents. The copy travels as a tar from packTree to untarInto, and both ends look every path up
// in-root, on the container's side while it is paused or stopped (container-fs.ts).
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../common/errors.js';
import { withContainerFs } from './container-fs.js';
import type { EngineContext } from './context.js';
import { hostView, locate, parseCpPath, type CpPath, type FsView, type Located } from './fs-view.js';
import { packTree } from './tree-tar.js';
import { untarInto } from './tree-untar.js';

export interface CopyOptions {
  /** -a: keep the source's owners (otherwise the container's root going in, the copying user coming out). */
  archive?: boolean;
  /** -L: a symlink named as the source is followed. */
  followLink?: boolean;
  /** The bytes of the tar so far, as they pass (docker's progress line). */
  onProgress?: (bytes: number) => void;
  /** Stops the copy; the container is put back as it was. */
  signal?: AbortSignal;
}

export interface CopyResult {
  /** Bytes of file content copied. */
  contentSize: number;
  /** Bytes of the tar that carried them. */
  transferred: number;
  /** The destination as docker names it in "Successfully copied ... to DEST". */
  dest: string;
}

/** A host path, or a tar stream (docker's "-"). */
export type HostEnd<S> = { hostPath: string } | { stream: S };

interface Source extends Located {
  stat: NonNullable<Located['stat']>;
  /** The name the copy gets: the path's last component (a followed symlink's own), or "." for contents only. */
  name: string;
}

/** Where `path` on the host is, relative to our working directory, a trailing "/" or "/." kept. */
function hostPath(path: string): string {
  return path.startsWith('/') ? path : `${process.cwd()}/${path}`;
}

function source(view: FsView, p: CpPath, followLink: boolean, missing: () => SkiffError): Source {
  const at = locate(view, p, followLink);
  if (!at?.stat) throw missing();
  if (p.assertsDir && !at.stat.isDirectory()) throw new SkiffError(`${view.show(p.shown)}: not a directory`, 'ENOTDIR');
  const name = p.contentOnly || (p.base === undefined && p.dir.length === 0) ? '.' : p.base ?? p.dir[p.dir.length - 1];
  return { ...at, stat: at.stat, name };
}

/** The directory a path's last component is in (for "a/b/" as for "a/b": a). */
function parentOf(p: CpPath): string[] {
  return p.base === undefined ? p.dir.slice(0, -1) : p.dir;
}

/** The destination path with its last component (even one written "dir/") looked up, a symlink there followed. */
function destination(view: FsView, p: CpPath): Located | undefined {
  const named = p.base === undefined && p.dir.length ? { ...p, dir: parentOf(p), base: p.dir[p.dir.length - 1] } : p;
  return locate(view, named, true);
}

/** docker's PrepareArchiveCopy: the directory to write into and the name the source takes there. */
function plan(src: Source, dstView: FsView, dp: CpPath, dst: Located | undefined, parentMissing: () => SkiffError): { dir: string[]; name: string } {
  if (!dst) throw parentMissing();
  const st = dst.stat;
  if (st && !st.isDirectory() && !st.isFile()) throw new SkiffError(`${dstView.show(dp.shown)} must be a directory or a regular file`, 'EINVAL');
  if (st?.isDirectory()) return { dir: dst.parts, name: src.name };
  if (st && src.stat.isDirectory()) throw new SkiffError(`cannot copy a directory to a file: ${dstView.show(dp.shown)}`, 'ENOTDIR');
  if (!st && dp.assertsDir && !src.stat.isDirectory()) throw new SkiffError(`the destination directory ${dstView.show(dp.shown)} does not exist`, 'ENOENT');
  return { dir: dst.parts.slice(0, -1), name: dst.parts[dst.parts.length - 1] };
}

/** Rejects once `signal` is aborted (never, without one). */
function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The tar, counted as it passes; an abort ends it even while it waits for more (a tar on a terminal's stdin). */
async function* counted(tar: AsyncIterable<Buffer>, result: CopyResult, o: CopyOptions): AsyncGenerator<Buffer> {
  const chunks = tar[Symbol.asyncIterator]();
  const stop = aborted(o.signal);
  stop.catch(() => {});
  for (;;) {
    const next = await Promise.race([chunks.next(), stop]);
    if (next.done) return;
    result.transferred += next.value.length;
    o.onProgress?.(result.transferred);
    yield next.value;
  }
}

function pack(ctx: EngineContext, view: FsView, src: Source, name: string, result: CopyResult, o: CopyOptions): AsyncGenerator<Buffer> {
  return counted(packTree(view, src.parts, name, { warn: ctx.warn, onContent: (n) => { result.contentSize += n; } }), result, o);
}

/** `ref` is the container as the user named it (for messages), `id` its ID. */
export async function copyFromContainer(ctx: EngineContext, id: string, ref: string, srcPath: string, to: HostEnd<Writable>, o: CopyOptions = {}): Promise<CopyResult> {
  const sp = parseCpPath(srcPath);
  const dp = 'hostPath' in to ? parseCpPath(hostPath(to.hostPath)) : undefined;
  const result: CopyResult = { contentSize: 0, transferred: 0, dest: dp ? dp.shown : '-' };
  await withContainerFs(ctx, id, async (view) => {
    const src = source(view, sp, Boolean(o.followLink), () => new SkiffError(`No such container:path: ${ref}:${sp.shown}`, 'ENOENT'));
    if (!dp) {
      await pipeline(Readable.from(pack(ctx, view, src, src.name, result, o)), (to as { stream: Writable }).stream, { end: false });
      return;
    }
    const into = plan(src, hostView, dp, destination(hostView, dp),
      () => new SkiffError(`invalid output path: directory "/${parentOf(dp).join('/')}" does not exist`, 'ENOENT'));
    await untarInto(hostView, into.dir, pack(ctx, view, src, into.name, result, o), { keepOwners: Boolean(o.archive) });
  });
  return result;
}

export async function copyToContainer(ctx: EngineContext, id: string, ref: string, destPath: string, from: HostEnd<AsyncIterable<Buffer>>, o: CopyOptions = {}): Promise<CopyResult> {
  const dp = parseCpPath(destPath);
  const result: CopyResult = { contentSize: 0, transferred: 0, dest: `${ref}:${dp.shown}` };
  const parentMissing = () => new SkiffError(`Could not find the file /${parentOf(dp).join('/')} in container ${ref}`, 'ENOENT');
  // The host's source is looked at before the container is paused: a missing one is an error that costs nothing.
  const sp = 'hostPath' in from ? parseCpPath(hostPath(from.hostPath)) : undefined;
  const src = sp && source(hostView, sp, Boolean(o.followLink), () => new SkiffError(`lstat ${sp.shown}: no such file or directory`, 'ENOENT'));
  await withContainerFs(ctx, id, async (view) => {
    const dst = destination(view, dp);
    if (!src) {
      if (!dst?.stat?.isDirectory()) throw new SkiffError(`destination "${ref}:${dp.shown}" must be a directory`, 'ENOTDIR');
      view.checkWritable(dst.parts);
      await untarInto(view, dst.parts, counted((from as { stream: AsyncIterable<Buffer> }).stream, result, o), { keepOwners: Boolean(o.archive) });
      // docker: the content size of a stream is not known; what it carried is.
      result.contentSize = result.transferred;
      return;
    }
    const into = plan(src, view, dp, dst, parentMissing);
    // docker refuses a read-only destination before it copies anything.
    view.checkWritable([...into.dir, into.name]);
    await untarInto(view, into.dir, pack(ctx, hostView, src, into.name, result, o), { keepOwners: Boolean(o.archive) });
  });
  return result;
}
