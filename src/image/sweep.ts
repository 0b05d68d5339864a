// What processes killed half way leave under the root, found and removed by `image prune`: a layer being unpacked
// (<root>/unpacking/<snapshot> and its lock), a snapshot being removed (<snapshot>.removing-<pid>), a blob being
// written by ingest (content/ingest/<hex>.<pid>.<n>, stream.<pid>.<n>), a file being written atomically
// (.<name>.<pid>.<n>.tmp), and the locks such processes held. Nothing a live process is writing is touched: a file named
// with a pid is removed only when that process is gone, and a directory guarded by a lock only while holding that
// lock (taken the way its writers take it, so a writer starting meanwhile waits instead of writing into a
// directory being deleted).
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { withLock } from '../common/lock.js';
import { isAlive } from './lease.js';

export interface Leftover {
  /** Relative to the root. */
  path: string;
  bytes: number;
  why: string;
}

/** Runs `fn` holding `lock` if nobody alive holds it; false (and `fn` not run) if somebody does. */
export async function ifUnlocked(lock: string, fn: () => Promise<void>): Promise<boolean> {
  let ran = false;
  try {
    // A zero wait: a live holder makes withLock give up at once; a dead one's lock is taken over.
    await withLock(lock, lock, async () => {
      ran = true;
      await fn();
    }, 0);
    return true;
  } catch (err) {
    if (ran) throw err;
    return false;
  }
}

/** Bytes under `path` (each inode once: a layer's hard links are one file), 0 if it is gone. */
export async function diskUsage(path: string, seen = new Set<string>()): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st || seen.has(`${st.dev}:${st.ino}`)) return 0;
  seen.add(`${st.dev}:${st.ino}`);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of await readdir(path).catch(() => [] as string[])) n += await diskUsage(join(path, e), seen);
  return n;
}

const SNAPSHOT = /^sha256-[a-f0-9]{64}$/;
const REMOVING = /^sha256-[a-f0-9]{64}\.removing-(\d+)$/;
/** ContentStore.ingest and ingestStream's files under content/ingest. */
const INGEST_TEMP = /^(?:[a-f0-9]{64}|stream)\.(\d+)\.\d+$/;
/** writeFileAtomic's temporary files. */
const ATOMIC_TEMP = /^\..+\.(\d+)\.\d+\.tmp$/;

export async function sweepLeftovers(root: string): Promise<Leftover[]> {
  const out: Leftover[] = [];
  const remove = async (path: string, why: string) => {
    // Gone meanwhile: a live writer finished (renamed it into place) just before its lock became ours.
    if (!(await lstat(path).catch(() => undefined))) return;
    const bytes = await diskUsage(path);
    await rm(path, { recursive: true, force: true });
    out.push({ path: relative(root, path), bytes, why });
  };
  const ownerOf = (lock: string) => readFile(lock, 'utf8').then((pid) => ` (pid ${pid.trim()})`, () => undefined);
  /** A lock nobody alive holds, beside nothing it guards: taken over, then released (withLock unlinks it). */
  const dropLock = async (lock: string, why: string) => {
    const owner = await ownerOf(lock);
    if (owner !== undefined) await ifUnlocked(lock, async () => { out.push({ path: relative(root, lock), bytes: 0, why: why + owner }); });
  };
  const list = (dir: string) => readdir(join(root, dir)).catch(() => [] as string[]);
  const deadPid = (name: string, re: RegExp) => {
    const m = re.exec(name);
    return m && !isAlive(Number(m[1])) ? Number(m[1]) : undefined;
  };

  const unpacking = join(root, 'unpacking');
  const names = await list('unpacking');
  for (const n of names) {
    const path = join(unpacking, n);
    if (SNAPSHOT.test(n)) {
      // Snapshots.unpackOnce: whoever holds <snapshot>.lock owns the directory, so holding it ourselves makes
      // the directory a killed unpack's.
      const owner = await ownerOf(`${path}.lock`) ?? '';
      await ifUnlocked(`${path}.lock`, () => remove(path, `a layer unpack that was killed${owner}`));
    } else if (n.endsWith('.lock') && SNAPSHOT.test(n.slice(0, -5)) && !names.includes(n.slice(0, -5))) {
      await dropLock(path, 'the lock of a layer unpack that was killed');
    } else {
      const pid = deadPid(n, REMOVING);
      if (pid !== undefined) await remove(path, `a snapshot removal that was killed (pid ${pid})`);
    }
  }
  const ingest = await list(join('content', 'ingest'));
  for (const n of ingest) {
    const path = join(root, 'content', 'ingest', n);
    const pid = deadPid(n, INGEST_TEMP);
    if (pid !== undefined) await remove(path, `a blob being stored when its process was killed (pid ${pid})`);
    // A download's lock beside no download: killed before its first byte (a .partial is garbage collection's).
    if (/^[a-f0-9]{64}\.lock$/.test(n) && !ingest.includes(`${n.slice(0, 64)}.partial`)) await dropLock(path, 'the lock of a download that was killed');
  }
  for (const dir of ['images', 'content', 'leases']) {
    for (const n of await list(dir)) {
      const pid = deadPid(n, ATOMIC_TEMP);
      if (pid !== undefined) await remove(join(root, dir, n), `a file being written when its process was killed (pid ${pid})`);
    }
  }
  return out;
}
