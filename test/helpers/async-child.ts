// A child process run without blocking this one (a registry proxy in this process must keep serving): its pid at
// once, and its exit code with everything it printed when it closes.
import { spawn, type SpawnOptions } from 'node:child_process';

export interface ChildResult {
  code: number | null;
  out: string;
  err: string;
}

export function spawnCollecting(command: string, args: string[], opts: SpawnOptions = {}): { pid: number; done: Promise<ChildResult> } {
  const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const done = new Promise<ChildResult>((r) => child.on('close', (code) => r({ code, out, err })));
  return { pid: child.pid!, done };
}
