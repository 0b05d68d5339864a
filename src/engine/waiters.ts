// A `skiff run` in the foreground that waits for its container's exit says so in a file beside the record, with its
// pid: the monitor's exit command then leaves an --rm container for it to remove, so the waiter still reads the
// exit status. A waiter that died is no waiter: the exit command (or the next command) removes the container.
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
    writeFileSync(this.file(id), `${process.pid} ${(await processStartTime(process.pid)) ?? ''}`);
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
}
