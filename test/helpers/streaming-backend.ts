// A streaming backend for tests that runs real processes in place of containers: exec spawns the command (on a
// real pseudo-terminal through pty-exec.c when the session has a tty, resized as the client asks), attach joins a
// process a test started as a "container", and port-forward connects to a real TCP port on 127.0.0.1.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Duplex, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { StreamingBackend, StreamSession } from '../../src/cri/streaming/backend.js';

const ptySource = fileURLToPath(new URL('../../../test/helpers/pty-exec.c', import.meta.url));

/** Compiles pty-exec.c into `dir`; returns the binary's path. */
export function buildPtyExec(dir: string): string {
  const bin = join(dir, 'pty-exec');
  execFileSync('cc', ['-Wall', '-Werror', '-O2', '-o', bin, ptySource, '-lutil']);
  return bin;
}

/** The session's streams to the process's; the server ends the output streams itself. */
function feed(session: StreamSession, child: ChildProcess): void {
  if (session.stdin) session.stdin.pipe(child.stdin!);
  else child.stdin!.end();
  if (session.stdout) child.stdout!.pipe(session.stdout, { end: false });
  else child.stdout!.resume();
  if (session.stderr) child.stderr!.pipe(session.stderr, { end: false });
  else child.stderr!.resume();
}

function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

export class ProcessBackend implements StreamingBackend {
  /** "Containers" attach can join: running processes by ID. */
  readonly containers = new Map<string, ChildProcess>();
  /** Containers whose exec fails as one gone from under the backend would. */
  readonly failing = new Set<string>();
  /** Every exec'd process, for the tests to check none is left. */
  readonly execs: ChildProcess[] = [];

  constructor(private readonly ptyExec: string) {}

  /** Starts a process attach can join as container `id`. */
  startContainer(id: string, cmd: string[]): ChildProcess {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: 'pipe' });
    this.containers.set(id, child);
    child.once('exit', () => this.containers.delete(id));
    return child;
  }

  async exec(containerId: string, cmd: string[], session: StreamSession): Promise<number> {
    if (this.failing.has(containerId)) throw new Error(`container "${containerId}" not found`);
    const child = session.tty
      ? spawn(this.ptyExec, cmd, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] })
      : spawn(cmd[0], cmd.slice(1), { stdio: 'pipe' });
    this.execs.push(child);
    feed(session, child);
    if (session.resizes) {
      const resize = child.stdio[3] as Writable;
      void (async () => {
        for await (const size of session.resizes!) resize.write(`${size.height} ${size.width}\n`);
      })();
    }
    session.signal.addEventListener('abort', () => child.kill('SIGKILL'));
    return exitCode(child);
  }

  async attach(containerId: string, session: StreamSession): Promise<void> {
    const child = this.containers.get(containerId);
    if (!child) throw new Error(`container "${containerId}" is not running`);
    if (session.stdin) session.stdin.pipe(child.stdin!, { end: false });
    if (session.stdout) child.stdout!.pipe(session.stdout, { end: false });
    if (session.stderr) child.stderr!.pipe(session.stderr, { end: false });
    await Promise.race([exitCode(child), new Promise((resolve) => session.signal.addEventListener('abort', resolve))]);
    session.stdin?.unpipe(child.stdin!);
  }

  async portForward(_podSandboxId: string, port: number, stream: Duplex): Promise<void> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    // The client went away (its stream destroyed, not ended): so does the connection.
    stream.once('close', () => socket.destroy());
    stream.pipe(socket);
    socket.pipe(stream);
    await Promise.all([finished(socket).catch(() => {}), finished(stream).catch(() => {})]);
  }
}
