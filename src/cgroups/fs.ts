// Reading and writing cgroupfs files: small values, one write per file (cgroups(7)).
// cgroupfs is in-kernel memory: a read, write, mkdir or rmdir takes tens of microseconds, far less than a trip
// through libuv's thread pool (~0.3 ms each here), so these use the synchronous calls behind async signatures.
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { readSmallFile } from '../common/read-small.js';
import { ownedParents } from './paths.js';

export async function readValue(path: string): Promise<string> {
  return readSmallFile(path).trim();
}

export async function readText(path: string): Promise<string> {
  return readSmallFile(path);
}

export async function readNumber(path: string, fallback = 0): Promise<number> {
  try {
    const v = await readValue(path);
    return v === 'max' ? -1 : Number(v);
  } catch {
    return fallback;
  }
}

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events). */
export async function readKeyed(path: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    for (const line of readSmallFile(path).split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      if (k && v !== undefined) out[k] = Number(v);
    }
  } catch {
    // a controller that is not there: no values
  }
  return out;
}

/** Writes a cgroup file; the error names the file, the value and what the field was. */
export async function writeValue(path: string, value: string, field: string): Promise<void> {
  try {
    writeFileSync(path, value);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'not supported by this kernel or cgroup hierarchy' : e.message.replace(/^[A-Z]+: /, '').split(',')[0];
    throw new SkiffError(`${field}: cannot write "${value}" to ${path}: ${why}`, e.code ?? 'EIO');
  }
}

/**
 * mkdir -p that records the directories it made, so a failure can remove exactly those. A parent that another
 * container's destroy removes between our check and our mkdir (ENOENT) is made again.
 */
export async function mkdirTracked(dir: string, made: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const missing: string[] = [];
    for (let d = dir; d !== '/'; d = dirname(d)) {
      if (existsSync(d)) break;
      missing.unshift(d);
    }
    try {
      for (const d of missing) {
        try {
          mkdirSync(d);
          made.push(d);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10) throw err;
    }
  }
}

function hasChildCgroup(dir: string): boolean {
  try {
    return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
  } catch {
    return false;
  }
}

/** rmdir, retrying while the last processes are still leaving (EBUSY). */
export async function rmdirRetry(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // rmdir(2) says EBUSY both while the last processes leave and for a cgroup with child cgroups; only the
      // first passes (a parent shared by pods waited a second for nothing).
      if (code === 'EBUSY' && hasChildCgroup(dir)) throw new SkiffError(`cgroup ${dir} still has child cgroups`, 'ENOTEMPTY');
      if (code !== 'EBUSY' || i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Removes the cgroup at `path` under the hierarchy mounted at `mount`, then the empty parents skiff owns. */
export async function removeCgroupDir(mount: string, path: string): Promise<void> {
  await rmdirRetry(join(mount, path));
  for (const parent of ownedParents(path)) {
    try {
      rmdirSync(join(mount, parent));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return; // not empty (other containers) or busy: it stays
    }
  }
}

/** Calls `listener` whenever the OOM kill counter goes up, checking every 200 ms; returns the stop function. */
export function pollOomKills(count: () => Promise<number>, listener: () => void): () => void {
  let last = -1;
  const sample = () => {
    void count().then((n) => {
      if (last >= 0 && n > last) listener();
      last = n;
    }, () => {});
  };
  // The baseline is read at once: a kill between subscribing and the first tick must count as new.
  sample();
  const timer = setInterval(sample, 200);
  return () => clearInterval(timer);
}

/** Signals each pid; one that already exited is not an error. */
export function signalEach(pids: number[], signal: number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
