// The exec fifo (runc's): the container's process waits on it at `exec-wait` until the runtime opens it for reading,
// then writes "0" and keeps its end open, close-on-exec, until it executes the program (docs/launch-plan.md).
import { open, unlink } from 'node:fs/promises';

/**
 * Lets the waiting process go on and reads the fifo to its end, which comes once the process has executed its
 * program (after the startContainer hooks) or is gone; then removes the fifo. `gone` settles when the process
 * exits: the read then ends as well, even if the process never opened the fifo. Resolves whether the process had
 * reached the fifo ("0" was written).
 */
export async function releaseExecFifo(fifo: string, gone?: Promise<unknown>): Promise<boolean> {
  // open(2) of a FIFO for reading blocks until a writer opens it (fifo(7)): the process at exec-wait does.
  const opening = open(fifo, 'r');
  const outcomes = [opening.then(() => 'opened')];
  if (gone) outcomes.push(gone.then(() => 'gone', () => 'gone'));
  // fifo(7): an O_RDWR open never blocks, and is the writer our pending open waits for; it is held until that open
  // is done, so the open cannot start after it was closed and then block for ever.
  const writer = (await Promise.race(outcomes)) === 'gone' ? await open(fifo, 'r+') : undefined;
  let reader;
  try {
    reader = await opening;
  } finally {
    await writer?.close();
  }
  try {
    return (await reader.readFile()).length > 0;
  } finally {
    await reader.close();
    await unlink(fifo);
  }
}
