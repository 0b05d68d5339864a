// crictl (kubernetes-sigs/cri-tools) run against a CRI server's socket: found as the project's tests find it
// ($CRICTL, then PATH, then ../shared/tools/cri-tools beside the project).
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { criTool } from './cri-tools.js';

/** crictl as the project's tests find it (test/helpers/cri-tools.ts). */
export const findCrictl = () => criTool('crictl');

export interface CrictlResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs crictl against the CRI server on `socket` (both endpoints). */
export function crictl(socket: string, args: string[], opts: SpawnSyncOptions = {}): CrictlResult {
  const endpoint = `unix://${socket}`;
  const r = spawnSync(findCrictl(), ['--runtime-endpoint', endpoint, '--image-endpoint', endpoint, '--timeout', '30s', ...args], { encoding: 'utf8', ...opts });
  return { code: r.status, out: String(r.stdout), err: String(r.stderr) };
}

/**
 * crictl without blocking this process (for a server running in it), with `input` on its stdin; `onOutput` sees
 * its stdout as it comes (a port-forward runs until killed).
 */
export function crictlAsync(socket: string, args: string[], input?: string, onOutput?: (text: string) => void): { kill(): void; done: Promise<CrictlResult> } {
  const endpoint = `unix://${socket}`;
  const child = spawn(findCrictl(), ['--runtime-endpoint', endpoint, '--image-endpoint', endpoint, '--timeout', '30s', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    onOutput?.(out);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  if (input !== undefined) child.stdin.end(input);
  const done = new Promise<CrictlResult>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { kill: () => child.kill('SIGINT'), done };
}
