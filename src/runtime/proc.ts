// Facts about host processes read from /proc (proc(5)). procfs reads are in-kernel and take microseconds, less
// than a trip through libuv's thread pool, so they are synchronous.
import { readSmallFile } from '../common/read-small.js';

/**
 * The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined if it is gone.
 * Stored with a container's pid so a recycled pid is never mistaken for the container.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  return readStat(pid)?.startTime;
}

/** The process state letter (R, S, D, Z, T, ...) of /proc/PID/stat, or undefined if it is gone. */
export async function processState(pid: number): Promise<string | undefined> {
  return readStat(pid)?.state;
}

/** Fields 3 (state) and 22 (starttime) of /proc/PID/stat, or undefined if the process is gone. */
function readStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = readSmallFile(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses. The two fields are
  // found by counting spaces: splitting the whole line made 50 strings for each pod or container a listing checks.
  let i = text.lastIndexOf(')') + 2;
  const state = text[i];
  for (let field = 3; field < 22; field++) i = text.indexOf(' ', i) + 1;
  return { state, startTime: text.slice(i, text.indexOf(' ', i)) };
}

/**
 * `pid` as the process sees itself: the last NSpid of /proc/PID/status, its pid in its own pid namespace (proc(5)),
 * or undefined if it is gone.
 */
export function pidInOwnNamespace(pid: number): number | undefined {
  let status: string;
  try {
    status = readSmallFile(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const ids = /^NSpid:\s*(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
  return ids ? Number(ids[ids.length - 1]) : undefined;
}

/** Whether the process has a handler for signal `sig` (SigCgt of /proc/PID/status, bit sig-1); undefined if gone. */
export function catchesSignal(pid: number, sig: number): boolean | undefined {
  let status: string;
  try {
    status = readSmallFile(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return mask === undefined ? undefined : ((BigInt(`0x${mask}`) >> BigInt(sig - 1)) & 1n) === 1n;
}

/** True while `pid` is the process that had `startTime`, and it has not exited (a zombie counts as exited). */
export async function isSameProcessAlive(pid: number, startTime: string): Promise<boolean> {
  const stat = readStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** Waits until the process is gone or a zombie, polling; resolves false on timeout. */
export async function waitProcessGone(pid: number, startTime: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while (await isSameProcessAlive(pid, startTime)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
  return true;
}
