// A lock file per container so that concurrent commands on one container are serialized, across processes.
// Node has no flock(2); a file holding the owner's pid, made with link(2) so that only one process gets it, works
// across processes, and a lock whose owner is gone is taken over. Its file operations are synchronous: each is one
// small system call, and node:fs/promises would cost `skiff-runtime start` and `delete` 3 ms to load (issue 15).
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { SkiffError } from './errors.js';

const STALE_EMPTY_MS = 2000;

export async function withLock<T>(lockPath: string, what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  await acquire(lockPath, what, timeoutMs);
  try {
    return await fn();
  } finally {
    removeLock(lockPath);
  }
}

function removeLock(lockPath: string): void {
  try {
    unlinkSync(lockPath);
  } catch {
    // Taken over as stale by another process meanwhile, or its directory removed with the container.
  }
}

async function acquire(lockPath: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    try {
      if (takeLock(lockPath)) return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SkiffError(`${what} does not exist`, 'ENOENT');
      throw err;
    }
    if (isStale(lockPath)) {
      removeLock(lockPath);
      continue;
    }
    if (Date.now() > deadline) throw new SkiffError(`${what}: timed out waiting for another command to finish`, 'ETIMEDOUT');
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * The lock file appears with the owner's pid already in it: written under a name of our own, then linked to the
 * lock's name, which link(2) refuses (EEXIST) when it is taken. A lock created empty and then written could be left
 * empty by an owner killed in between, and looked held for a while (STALE_EMPTY_MS).
 */
function takeLock(lockPath: string): boolean {
  const mine = `${lockPath}.${process.pid}`;
  writeFileSync(mine, String(process.pid), { mode: 0o600 });
  try {
    linkSync(mine, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(mine);
  }
}

function isStale(lockPath: string): boolean {
  let owner: string;
  try {
    owner = readFileSync(lockPath, 'utf8').trim();
  } catch {
    return false;
  }
  if (owner === '') {
    // Created but not yet written by its owner; only stale if it stays empty.
    const st = statSync(lockPath, { throwIfNoEntry: false });
    return st !== undefined && Date.now() - st.mtimeMs > STALE_EMPTY_MS;
  }
  try {
    process.kill(Number(owner), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
