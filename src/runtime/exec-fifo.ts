// The exec fifo: the container's process holds it open for reading and writing from create (no /proc is needed
// after its root changes, and it is no directory of the host: CVE-2024-21626) and waits at `exec-wait` for one byte
// (docs/launch-plan.md). `start` writes that byte, then waits until the process has executed its program or is
// gone, so the poststart hooks run after the startContainer hooks and the exec, as config.md says; a step that
// failed in between (a startContainer hook, the exec) wrote its error into the fifo, and start reports it, as runc
// does.
import { closeSync, constants, openSync, readSync, readlinkSync, unlinkSync, writeSync } from 'node:fs';
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
  // Synchronous calls on a fifo opened non-blocking never wait, and spare `skiff-runtime start` the load of
  // node:fs/promises.
  let writer: number;
  try {
    // fifo(7): a non-blocking open for writing fails with ENXIO when no process has the fifo open for reading.
    writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    unlinkSync(fifo);
    return false;
  }
  // Opened before the byte is written, so what the process writes later is still readable after it is gone.
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    writeSync(writer, '0');
    closeSync(writer);
    unlinkSync(fifo);
    await executedOrGone(pid, startTime);
    const buffer = Buffer.alloc(4096);
    let bytesRead = 0;
    try {
      bytesRead = readSync(reader, buffer, 0, buffer.length, null);
    } catch {
      // EAGAIN: the process wrote nothing more.
    }
    const line = buffer.subarray(0, bytesRead).toString('utf8').replace(/^0/, '').split('\n').find((l) => l.startsWith('error '));
    if (line) {
      const [, index, errno, syscall, ...text] = line.split(' ');
      const plan: Step[] = [];
      late?.steps.forEach((st, i) => { plan[late.first + i] = st; });
      throw stepFailure(plan, Number(index), Number(errno), text.join(' '), syscall === '-' ? undefined : syscall);
    }
    return true;
  } finally {
    closeSync(reader);
  }
}
