// The file `save -o` writes: made beside the target under a name that says whose it is and renamed over the
// target when whole and synced, so the target is the old file or the new one, never half of one. Any failure, or
// an abort (SIGINT), removes the temporary file; only a SIGKILL can leave one, and its name says what it is.
// Errors name the path the user gave and the cause, never the temporary name.
import { open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDir } from '../../common/atomic-write.js';
import { SkiffError } from '../../common/errors.js';
import { systemCause } from './system-error.js';

export async function writeOutputFile(output: string, what: string, write: (fh: FileHandle) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const dir = dirname(output);
  const fail = (cause: string, code = 'EINVAL') => new SkiffError(`${what}: ${cause}`, code);
  const dirStat = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (dirStat instanceof Error) {
    throw dirStat.code === 'ENOENT' ? fail(`directory ${dir} does not exist`, 'ENOENT') : fail(`${dir}: ${systemCause(dirStat) ?? dirStat.message}`, dirStat.code);
  }
  if (!dirStat.isDirectory()) throw fail(`${dir} is not a directory`, 'ENOTDIR');
  if ((await stat(output).catch(() => undefined))?.isDirectory()) throw fail('is a directory', 'EISDIR');

  const tmp = join(dir, `${basename(output)}.skiff-save-${process.pid}.tmp`);
  let fh: FileHandle;
  try {
    fh = await createExclusive(tmp);
  } catch (err) {
    throw fail(`cannot create a file in ${dir}: ${systemCause(err) ?? (err as Error).message}`, (err as NodeJS.ErrnoException).code);
  }
  try {
    try {
      await write(fh);
      signal?.throwIfAborted();
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    const cause = systemCause(err);
    throw cause ? fail(`writing: ${cause}`, (err as NodeJS.ErrnoException).code) : err;
  }
  await syncDir(dir);
}

/**
 * O_EXCL, so that a symlink planted under the temporary name is not followed; a file of that name can only be one a
 * killed save of a process with our pid left, and is replaced.
 */
async function createExclusive(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx', 0o666);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await unlink(path);
    return await open(path, 'wx', 0o666);
  }
}
