// Starts the native helper on a plan and speaks its protocol (docs/launch-plan.md "Protocol"): answers `pid` with
// the state for hooks once the caller has set up id maps and cgroups, answers `sync` after the caller's hooks, and
// resolves on `ready`. A failing step comes back as {step, errno}, turned into an error naming the config field.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { SkiffError } from '../common/errors.js';
import type { Step } from './step.js';
import { nativeHelperPath } from './binary-path.js';
import { encodePlan, netstring } from './plan-encoding.js';
import { activeZygote, type ZygoteRequest } from './zygote.js';

/** 'pipe': a pipe to us, its end in Launched.pipes. */
export type StdioTarget = 'inherit' | 'ignore' | 'pipe' | number;

export interface LaunchOptions {
  plan: Step[];
  /** The container's stdin, stdout, stderr (default: ours). */
  stdio?: [StdioTarget, StdioTarget, StdioTarget];
  /** Our fds 3 .. 3+n-1, passed on with the same numbers. */
  preserveFds?: number;
  /** The helper's working directory; it never leaks into the container. */
  cwd?: string;
  /**
   * The helper starts its own session (setsid(2)): a monitor, which outlives us; or a `wait` parent whose caller
   * relays signals itself, so that the terminal's (Ctrl-C) reach only the caller and the container gets each once,
   * not once from the caller and again from the helper.
   */
  detached?: boolean;
  /**
   * The container process exists and waits: write id maps, join cgroups. Returns the state JSON for `@state`
   * hooks and the ContainerProcessState JSON for a `@process-state` seccomp listener. `helperPid` is the process
   * spawned, which in parent mode `monitor` is the container's monitor.
   */
  onPid?(pid: number, helperPid: number): Promise<{ state: string; processState?: string }>;
  /** The child reached a `sync` step (e.g. "hooks"). */
  onSync?(name: string): Promise<void>;
  /** Adds what the caller knows to a failing step's error before it is thrown (or rejects `exit`). */
  explain?(err: LaunchError): void;
}

export interface ExitInfo {
  status: number;
  exitCode: number;
  signal?: number;
}

export interface Launched {
  /** Host pid of the container process. */
  pid: number;
  helperPid: number;
  warnings: string[];
  /** With a `wait` parent: the container's exit. */
  exit?: Promise<ExitInfo>;
  /**
   * With a `wait` parent holding the process's terminal: sets the terminal's size (for a caller whose own stdin
   * is no terminal the parent could copy it from). No effect without a terminal.
   */
  resize(rows: number, cols: number): void;
  /** Our ends of the stdio asked for as 'pipe' (null for the others). */
  pipes: { stdin: Writable | null; stdout: Readable | null; stderr: Readable | null };
}

export class LaunchError extends SkiffError {
  constructor(
    message: string,
    readonly stepIndex: number,
    readonly errno: number,
    readonly errnoName: string,
    readonly text: string,
    readonly step?: Step,
    /** The system call that failed, when the helper knows it (e.g. "capset"). */
    readonly syscall?: string,
  ) {
    super(message, errnoName || 'ELAUNCH');
    this.name = 'LaunchError';
  }
}

/** execve(2) errnos that libuv's map (getSystemErrorMap) lacks, with strerror(3)'s words for them. */
const ERRNOS_BEYOND_LIBUV = new Map<number, [string, string]>([[constants.errno.ENOEXEC, ['ENOEXEC', 'exec format error']]]);

/** The name and description of a positive errno: ["ENOENT", "no such file or directory"]. */
export function describeErrno(errno: number): [string, string] | undefined {
  return getSystemErrorMap().get(-errno) ?? ERRNOS_BEYOND_LIBUV.get(errno);
}

function describeFailure(plan: Step[], index: number, errno: number, text: string, syscall?: string): LaunchError {
  const step = plan[index];
  const sys = errno ? describeErrno(errno) : undefined;
  const where = step ? `${step.what ?? `${step.op} ${step.args.slice(0, 2).join(' ')}`}${step.field ? ` (${step.field})` : ''}` : 'native helper';
  const why = [text, sys?.[1] ?? (errno ? `errno ${errno}` : '')].filter(Boolean).join(': ');
  return new LaunchError(`${where}: ${why}`, index, errno, sys?.[0] ?? '', text, step, syscall);
}

/** A failure the helper reported outside the channel (the exec fifo, docs/launch-plan.md): step `index` of `plan`. */
export function stepFailure(plan: Step[], index: number, errno: number, text: string, syscall?: string): LaunchError {
  return describeFailure(plan, index, errno, text, syscall);
}

export function decodeStatus(status: number): ExitInfo {
  // waitpid(2) status: low 7 bits = terminating signal, else the exit code in bits 8-15.
  const sig = status & 0x7f;
  return sig === 0 ? { status, exitCode: (status >> 8) & 0xff } : { status, exitCode: 128 + sig, signal: sig };
}

/** The helper process of one launch and our end of its channel. */
interface Helper {
  pid: number;
  chan: Socket;
  pipes: Launched['pipes'];
  /** Spawned by us (not by the zygote): a ChildProcess to forget once the container runs on. */
  child?: ChildProcess;
}

/** What the zygote needs to start this launch's helper; undefined when it cannot (a pipe to us, fds passed on). */
function zygoteRequest(opts: LaunchOptions): ZygoteRequest | undefined {
  const stdio = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
  if (opts.preserveFds || !stdio.every((s) => s === 'ignore' || s === 'inherit')) return undefined;
  return { stdio: stdio as ZygoteRequest['stdio'], cwd: opts.cwd ?? '/', detached: Boolean(opts.detached) };
}

async function startHelper(opts: LaunchOptions): Promise<Helper> {
  const req = zygoteRequest(opts);
  const zygote = req ? await activeZygote() : undefined;
  if (req && zygote) {
    try {
      return { ...(await zygote.spawn(req)), pipes: { stdin: null, stdout: null, stderr: null } };
    } catch (err) {
      // The zygote ended under us: spawn this one ourselves. Any other failure is the helper's own.
      if ((err as SkiffError).code !== 'ESRCH') throw err;
    }
  }
  const preserve = opts.preserveFds ?? 0;
  const chanFd = 3 + preserve;
  const stdio: StdioOptions = [...(opts.stdio ?? ['inherit', 'inherit', 'inherit'])];
  for (let fd = 3; fd < chanFd; fd++) stdio.push(fd);
  stdio.push('pipe');
  const child = spawn(nativeHelperPath(), ['init', String(chanFd)], {
    stdio, cwd: opts.cwd ?? '/', detached: Boolean(opts.detached), env: {},
  });
  return { pid: child.pid ?? 0, chan: child.stdio[chanFd] as Socket, pipes: { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr }, child };
}

export async function launch(opts: LaunchOptions): Promise<Launched> {
  const helper = await startHelper(opts);
  const { chan, child } = helper;
  const warnings: string[] = [];
  let containerPid = 0;
  let exitResolve: (e: ExitInfo) => void = () => {};
  let exitReject: (e: Error) => void = () => {};
  const exit = new Promise<ExitInfo>((res, rej) => { exitResolve = res; exitReject = rej; });
  exit.catch(ignore);
  let ready = false;
  // A `wait` parent, or an `oci-exec` that waits for the process it had another runtime start (detach 0).
  const parentWaits = opts.plan.some((s) => (s.op === 'clone' && s.args[1] === 'wait') || (s.op === 'oci-exec' && s.args[2] === 0));

  return new Promise<Launched>((resolve, reject) => {
    let buffered = '';
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      if (err instanceof LaunchError) opts.explain?.(err);
      // The helper first: a monitor that saw its container die would write an exit file and run the exit command.
      killQuietly(helper.pid);
      if (containerPid) killQuietly(containerPid);
      chan.destroy();
      if (ready) exitReject(err);
      else reject(err);
    };
    // One message at a time, in order: `pid` and `sync` wait for the caller before the next line is read.
    let queue = Promise.resolve();
    const handle = async (line: string) => {
      const [kind, ...rest] = line.split(' ');
      switch (kind) {
        case 'pid': {
          containerPid = Number(rest[0]);
          const docs = opts.onPid ? await opts.onPid(containerPid, helper.pid) : { state: '' };
          chan.write(netstring(docs.state) + netstring(docs.processState ?? ''));
          break;
        }
        case 'sync':
          if (opts.onSync) await opts.onSync(rest.join(' '));
          chan.write('go\n');
          break;
        case 'ready':
          ready = true;
          resolve({
            pid: containerPid, helperPid: helper.pid, warnings, exit: parentWaits ? exit : undefined, pipes: helper.pipes,
            resize: (rows, cols) => {
              if (parentWaits && !chan.destroyed) chan.write(`resize ${Math.trunc(rows)} ${Math.trunc(cols)}\n`);
            },
          });
          break;
        case 'warn':
          warnings.push(describeFailure(opts.plan, Number(rest[0]), 0, rest.slice(1).join(' ')).message);
          break;
        case 'error': {
          // error <step> <errno> <syscall, or -> <text>
          const syscall = rest[2] && rest[2] !== '-' ? rest[2] : undefined;
          fail(describeFailure(opts.plan, Number(rest[0]), Number(rest[1]), rest.slice(3).join(' '), syscall));
          break;
        }
        case 'exit':
          exitResolve(decodeStatus(Number(rest[0])));
          break;
        default:
          fail(new SkiffError(`native helper sent an unknown message "${line}"`));
      }
    };
    chan.setEncoding('utf8');
    chan.on('data', (data: string) => {
      buffered += data;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        queue = queue.then(() => (failed ? undefined : handle(line))).catch(fail);
      }
    });
    chan.on('error', () => {});
    chan.on('close', () => {
      void queue.then(() => {
        if (!ready) fail(new SkiffError('the native helper exited before the container was ready'));
        else exitReject(new SkiffError('the native helper went away before reporting the container\'s exit'));
      });
    });
    child?.on('error', (err) => fail(new SkiffError(`cannot start the native helper: ${err.message}`)));
    chan.resume();
    chan.write(encodePlan(opts.plan));
  }).then((launched) => {
    if (!parentWaits) {
      // The container runs on without us: let our event loop forget the helper and the channel. A helper that stays
      // our child (a monitor) keeps its ChildProcess alive until it exits; without the listeners, that no longer
      // holds this launch's plan and closures (about 20 KB a container in skiffd).
      chan.destroy();
      chan.removeAllListeners();
      child?.removeAllListeners();
      child?.on('error', ignore);
      child?.unref();
      // A closure made in here would hold this call's whole scope (V8 gives a function's closures one context).
      return { ...launched, resize: ignore };
    }
    return launched;
  });
}

function ignore(): void {}

function killQuietly(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
