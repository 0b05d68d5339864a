// Runs a program to its end with its input on stdin, collecting stdout and stderr (a CNI plugin): forked by the
// zygote when there is one (src/native/zygote.ts says why), else spawned.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { SkiffError } from '../common/errors.js';
import { decodeStatus } from './launcher.js';
import { activeZygote, type HelperZygote } from './zygote.js';

export interface ProgramRun {
  path: string;
  args: string[];
  /** Its whole environment. */
  env: Record<string, string>;
  input: string;
  /** Killed (SIGKILL) after this long. */
  timeoutMs: number;
  /** stderr kept up to this many characters. */
  stderrLimit: number;
}

export interface ProgramResult {
  /** null: ended by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export async function runProgram(run: ProgramRun): Promise<ProgramResult> {
  const zygote = await activeZygote();
  if (zygote) {
    try {
      return await throughZygote(zygote, run);
    } catch (err) {
      // The zygote ended under us: spawn it ourselves. Any other failure is the program's own.
      if ((err as SkiffError).code !== 'ESRCH') throw err;
    }
  }
  const child = spawn(run.path, run.args, { env: run.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = collect(child.stdout), err = collect(child.stderr, run.stderrLimit);
  child.stdin.on('error', () => {});
  child.stdin.end(run.input);
  return finish(run, () => child.kill('SIGKILL'), new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }), out, err);
}

async function throughZygote(zygote: HelperZygote, run: ProgramRun): Promise<ProgramResult> {
  const r = await zygote.run(run.path, run.args, run.env);
  const out = collect(r.io), err = collect(r.stderr, run.stderrLimit);
  r.io.on('error', () => {});
  r.stderr.on('error', () => {});
  // Our half-close is the end of its stdin; its stdout goes on until it closes that.
  r.io.end(run.input);
  // finished() also settles for a stream that has already ended (a program that exits at once).
  const ended = (s: Readable) => finished(s).catch(() => {});
  const code = Promise.all([r.exit, ended(r.io), ended(r.stderr)]).then(([status]) => {
    const e = decodeStatus(status);
    return e.signal ? null : e.exitCode;
  });
  return finish(run, () => process.kill(r.pid, 'SIGKILL'), code, out, err);
}

/** The stream's text, at most `limit` characters of it; the stream is resumed (the zygote's come paused). */
function collect(stream: Readable, limit = Infinity): { text: string } {
  const acc = { text: '' };
  stream.setEncoding('utf8').on('data', (d: string) => { if (acc.text.length < limit) acc.text += d; });
  stream.resume();
  return acc;
}

async function finish(run: ProgramRun, kill: () => void, exit: Promise<number | null>, out: { text: string }, err: { text: string }): Promise<ProgramResult> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      kill();
    } catch {
      // already gone
    }
  }, run.timeoutMs);
  try {
    const code = await exit;
    return { code, stdout: out.text, stderr: err.text, timedOut };
  } finally {
    clearTimeout(timer);
  }
}
