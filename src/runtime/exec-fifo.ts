// The exec fifo: the container's process holds it open for reading and writing from create (no /proc is needed
// after its root changes, and it is no directory of the host: CVE-2024-21626) and waits at `exec-wait` for one byte
// (docs/launch-plan.md). `start` writes that byte, then waits until the process has executed its program, so the
// poststart hooks run after the startContainer hooks and the exec, as config.md says.
import { constants, readlinkSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { isSameProcessAlive } from './proc.js';

/** The helper runs from a sealed memfd until the container's process executes its program (execve(2)). */
const HELPER_EXE = '/memfd:skiff-init';

async function executed(pid: number, startTime: string): Promise<void> {
  for (let delay = 1; await isSameProcessAlive(pid, startTime); delay = Math.min(delay * 2, 20)) {
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return;
    }
    if (!exe.startsWith(HELPER_EXE)) return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Lets the waiting process go on and waits until it has executed its program (or is gone); removes the fifo.
 * Resolves whether the process was still there to be let go.
 */
export async function releaseExecFifo(fifo: string, pid: number, startTime: string): Promise<boolean> {
  // fifo(7): a non-blocking open for writing fails with ENXIO when no process has the fifo open for reading.
  const fh = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENXIO') return undefined;
    throw err;
  });
  try {
    if (!fh) return false;
    await fh.write('0');
  } finally {
    await fh?.close();
    await unlink(fifo);
  }
  await executed(pid, startTime);
  return true;
}
