// Processes that wait for a container's exit, each in a file beside the record with its pid and start time.
// - The waiter: a `skiff run` in the foreground. The monitor's exit command leaves an --rm container for it to
//   remove, so the waiter still reads the exit status.
// - The exit owner: a process that takes down the run itself once the container has exited (afterExit): a
//   `skiff run` in the foreground, a stop. The monitor does not start its exit command while the owner lives
//   (docs/monitor.md): that Node process would only race the owner for the container's lock.
// A waiter or owner that died is none: the exit command (or the next command's reconciliation) does the rest.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSameProcessAlive, processStartTime } from '../runtime/proc.js';
import type { EnginePaths } from './paths.js';

export class Waiters {
  constructor(private readonly paths: EnginePaths) {}

  private file(id: string): string {
    return join(this.paths.container(id), 'waiter');
  }

  async register(id: string): Promise<void> {
    writeFileSync(this.file(id), await me());
  }

  unregister(id: string): void {
    rmSync(this.file(id), { force: true });
  }

  async alive(id: string): Promise<boolean> {
    let text: string;
    try {
      text = readFileSync(this.file(id), 'utf8');
    } catch {
      return false;
    }
    const [pid, start] = text.split(' ');
    return isSameProcessAlive(Number(pid), start ?? '');
  }

  /** Until releaseExit, this process takes down the run when the container exits; the last to claim is the owner. */
  async claimExit(id: string): Promise<void> {
    writeFileSync(this.paths.exitOwner(id), await me());
  }

  releaseExit(id: string): void {
    rmSync(this.paths.exitOwner(id), { force: true });
  }
}

/** `PID STARTTIME`, the start time as field 22 of /proc/PID/stat, as the monitor compares it. */
async function me(): Promise<string> {
  return `${process.pid} ${(await processStartTime(process.pid)) ?? ''}`;
}
