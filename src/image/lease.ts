// Leases: the blobs an operation is writing before any image name points at them (a pull between its first blob
// and its name). Garbage collection keeps every blob a live lease names, so a concurrent `image prune` cannot
// sweep a pull's layers out from under it. A lease is a file <root>/leases/<pid>-<n>.json; one whose process is
// gone is ignored and removed by the next collection.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';

let counter = 0;

export async function withLease<T>(root: string, digests: string[], fn: () => Promise<T>): Promise<T> {
  const dir = join(root, 'leases');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${counter++}.json`);
  await writeFileAtomic(file, JSON.stringify(digests), 0o644, false);
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}

/** The digests held by leases of live processes; leases of dead ones are removed. */
export async function leasedDigests(root: string): Promise<Set<string>> {
  const dir = join(root, 'leases');
  const out = new Set<string>();
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(\d+)-\d+\.json$/.exec(f);
    if (!m) continue;
    if (!isAlive(Number(m[1]))) {
      await rm(join(dir, f), { force: true });
      continue;
    }
    const digests = await readFile(join(dir, f), 'utf8').then((t) => JSON.parse(t) as string[], () => [] as string[]);
    for (const d of digests) out.add(d);
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
