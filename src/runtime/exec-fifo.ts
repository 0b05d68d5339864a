// The exec fifo: the container's process holds it open for reading and writing from create (no /proc is needed
// after its root changes, and it is no directory of the host: CVE-2024-21626) and waits at `exec-wait` for one byte
// (docs/launch-plan.md). `start` writes that byte, then waits until the process has executed its program or is
// gone, so the poststart hooks run after the startContainer hooks and the exec, as config.md says; a step that
// failed in between (a startContainer hook, the exec) wrote its error into the fifo, and start reports it, as runc
// does.
import { constants, readlinkSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { stepFailure } from '../native/launcher.js';
import type { Step } from '../native/step.js';
import type { ContainerRecord } from './container-store.js';
import { isSameProcessAlive } from './proc.js';

/** The helper runs from a sealed memfd until the container's process executes its program (execve(2)). */
const HELPER_EXE = '/memfd:skiff-init';

async function executedOrGone(pid: number, startTime: string): Promise<void> {
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
 * Resolves whether the process was still there to be let go; rejects with the error of a step that failed after.
 */
export async function releaseExecFifo(fifo: string, pid: number, startTime: string, late?: ContainerRecord['lateSteps']): Promise<boolean> {
  // fifo(7): a non-blocking open for writing fails with ENXIO when no process has the fifo open for reading.
  const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENXIO') return undefined;
    throw err;
  });
  if (!writer) {
    await unlink(fifo);
    return false;
  }
  // Opened before the byte is written, so what the process writes later is still readable after it is gone.
  const reader = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    await writer.write('0');
    await writer.close();
    await unlink(fifo);
    await executedOrGone(pid, startTime);
    const { bytesRead, buffer } = await reader.read(Buffer.alloc(4096), 0, 4096, null).catch(() => ({ bytesRead: 0, buffer: Buffer.alloc(0) }));
    const line = buffer.subarray(0, bytesRead).toString('utf8').replace(/^0/, '').split('\n').find((l) => l.startsWith('error '));
    if (line) {
      const [, index, errno, syscall, ...text] = line.split(' ');
      const plan: Step[] = [];
      late?.steps.forEach((st, i) => { plan[late.first + i] = st; });
      throw stepFailure(plan, Number(index), Number(errno), text.join(' '), syscall === '-' ? undefined : syscall);
    }
    return true;
  } finally {
    await reader.close();
  }
}
