// crictl (kubernetes-sigs/cri-tools), found as the project's scripts find it: $CRICTL, then PATH, then
// ../shared/tools/cri-tools beside the project.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findCrictl(): string {
  if (process.env.CRICTL) return process.env.CRICTL;
  const onPath = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'crictl')).find(executable);
  if (onPath) return onPath;
  const shared = join(projectRoot, '..', 'shared', 'tools', 'cri-tools', 'crictl');
  if (executable(shared)) return shared;
  throw new Error('crictl not found: set CRICTL, put it on PATH, or have ../shared/tools/cri-tools/crictl');
}

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
