import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

let counter = 0;

/**
 * Writes a file so that a crash leaves either the old or the new content: temp file, fsync, rename.
 * `durable: false` skips the fsync for state that does not outlive a reboot anyway (runtime state under /run):
 * the rename alone already protects it from a process crash.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, durable = true): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/**
 * writeFileAtomic, synchronously: for the short commands of skiff-runtime (their state, --pid-file), which would
 * otherwise load node:fs/promises (3 ms) for it.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o644, durable = true): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeFileSync(fd, data);
    if (durable) fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try { closeSync(fd); } catch { /* closed already */ }
    try { unlinkSync(tmp); } catch { /* renamed or never written */ }
    throw err;
  }
}

/** rename(2) is durable only once the directory holding the new name is synced (fsync(2)). */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
