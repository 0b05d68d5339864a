// A long-lived caller's way to start processes cheaply: the native helper's `zygote` mode forks them on request. A
// spawn from Node forks Node itself, copying its page tables, and blocks the event loop until the child has executed
// its program: 3-4 ms in skiffd, a dozen times per pod. The zygote's fork is of a small C process, and a helper
// needs no exec at all. Each child connects back to our unix socket with a one-time token: a helper once, running
// `init` on that connection as its channel (the protocol of a spawned helper); a program twice, for its stdin and
// stdout, and for its stderr (docs/launch-plan.md "Zygote").
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { SkiffError } from '../common/errors.js';
import { randomHex } from '../common/random.js';
import { nativeHelperPath } from './binary-path.js';
import { netstring } from './plan-encoding.js';

export type ZygoteStdio = 'ignore' | 'inherit';

export interface ZygoteRequest {
  stdio: [ZygoteStdio, ZygoteStdio, ZygoteStdio];
  cwd: string;
  /** A session of its own (setsid(2)). */
  detached: boolean;
}

export interface ZygoteHelper {
  pid: number;
  /** The channel, paused: the caller resumes it once it listens. */
  chan: Socket;
}

export interface ZygoteRun {
  pid: number;
  /** The program's stdin (write, then end()) and stdout (read). */
  io: Socket;
  stderr: Socket;
  /** Its raw waitpid(2) status. */
  exit: Promise<number>;
}

interface Pending {
  /** The connections it makes, by the role its hello names. */
  roles: string[];
  sockets: Map<string, Socket>;
  resolve(pid: number, sockets: Map<string, Socket>): void;
  reject(err: Error): void;
  pid?: number;
}

/** sun_path's size (unix(7)) less its terminating NUL. */
const MAX_SOCKET_PATH = 107;
/**
 * A child that exits before all its connections were accepted may still have made them: they wait in our accept
 * queue, and its exit line can be read first. How long to wait for them before the start counts as failed.
 */
const LATE_CONNECTION_MS = 200;

export class HelperZygote {
  private readonly pending = new Map<string, Pending>();
  private readonly byPid = new Map<number, string>();
  /** Programs whose exit status is awaited; a status that came early waits here for its program's start. */
  private readonly exits = new Map<number, (status: number) => void>();
  private readonly earlyExits = new Map<number, number>();
  private exited = false;

  private constructor(private readonly child: ChildProcess, private readonly server: Server, private readonly socketPath: string) {
    const replies = child.stdout as Socket;
    let buffered = '';
    replies.setEncoding('utf8');
    replies.on('data', (data: string) => {
      buffered += data;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        this.reply(buffered.slice(0, nl).split(' '));
        buffered = buffered.slice(nl + 1);
      }
    });
    child.once('exit', () => {
      this.exited = true;
      for (const token of [...this.pending.keys()]) this.take(token)?.reject(new SkiffError('the helper zygote exited', 'ESRCH'));
    });
    server.on('connection', (socket) => this.accept(socket));
    // Only a start under way keeps the caller's event loop alive (holding()); close() ends them.
    child.unref();
    (child.stdin as Socket).unref();
    this.holding();
  }

  /**
   * Listens on `socketPath` (replacing a stale socket there) and starts the zygote; undefined if the path is too long.
   * A path that starts with a NUL is a name in the abstract namespace (unix(7)): nothing to remove afterwards.
   */
  static async start(socketPath: string): Promise<HelperZygote | undefined> {
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) return undefined;
    const abstract = socketPath.startsWith('\0');
    if (!abstract) rmSync(socketPath, { force: true });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    // Its fd 2 is our stderr, fds 3 and 4 our stdin and stdout: what an `inherit` helper gets.
    const child = spawn(nativeHelperPath(), ['zygote', abstract ? `@${socketPath.slice(1)}` : socketPath], { stdio: ['pipe', 'pipe', 'inherit', 0, 1], env: {} });
    child.on('error', () => {});
    return new HelperZygote(child, server, socketPath);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get alive(): boolean {
    return !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A helper whose channel is connected; rejects if it could not start. */
  async spawn(req: ZygoteRequest): Promise<ZygoteHelper> {
    const stdio = req.stdio.map((s) => (s === 'inherit' ? 'i' : 'n')).join('');
    const { pid, sockets } = await this.request(['chan'], [req.cwd, stdio, req.detached ? '1' : '0', '0']);
    // A helper that ended as it connected: its channel closes, which is how the caller learns it.
    this.earlyExits.delete(pid);
    return { pid, chan: sockets.get('chan')! };
  }

  /** Program `path` with `args` and only `env`, its stdio on sockets to us; rejects if it could not start. */
  async run(path: string, args: string[], env: Record<string, string>, cwd = '/'): Promise<ZygoteRun> {
    const envList = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const { pid, sockets } = await this.request(['io', 'err'], [cwd, 'nnn', '0', String(args.length + 1), path, ...args, String(envList.length), ...envList]);
    const exit = new Promise<number>((resolve) => {
      const early = this.earlyExits.get(pid);
      this.earlyExits.delete(pid);
      if (early !== undefined) return resolve(early);
      this.exits.set(pid, resolve);
      this.holding();
    });
    return { pid, io: sockets.get('io')!, stderr: sockets.get('err')!, exit };
  }

  async close(): Promise<void> {
    (this.child.stdin as Writable).end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (!this.socketPath.startsWith('\0')) rmSync(this.socketPath, { force: true });
  }

  private request(roles: string[], fields: string[]): Promise<{ pid: number; sockets: Map<string, Socket> }> {
    const token = randomHex(16);
    return new Promise((resolve, reject) => {
      if (!this.alive) return reject(new SkiffError('the helper zygote exited', 'ESRCH'));
      this.pending.set(token, { roles, sockets: new Map(), resolve: (pid, sockets) => resolve({ pid, sockets }), reject });
      this.holding();
      (this.child.stdin as Writable).write([token, ...fields].map(netstring).join(''));
    });
  }

  private take(token: string): Pending | undefined {
    const p = this.pending.get(token);
    if (p) {
      this.pending.delete(token);
      this.holding();
    }
    return p;
  }

  /** Our listener and the zygote's replies keep the event loop alive while a start waits for them, only then. */
  private holding(): void {
    const replies = this.child.stdout as Socket;
    if (this.pending.size || this.exits.size) {
      this.server.ref();
      replies.ref();
    } else {
      this.server.unref();
      replies.unref();
    }
  }

  private reply([kind, a, b]: string[]): void {
    if (kind === 'spawned') {
      const p = this.pending.get(a);
      if (p) {
        p.pid = Number(b);
        this.byPid.set(p.pid, a);
      }
    } else if (kind === 'failed') {
      this.take(a)?.reject(new SkiffError(`cannot start the native helper: fork: errno ${b}`, 'EAGAIN'));
    } else if (kind === 'exit') {
      this.childExited(Number(a), Number(b));
    }
  }

  private childExited(pid: number, status: number): void {
    const waiting = this.exits.get(pid);
    if (waiting) {
      this.exits.delete(pid);
      this.holding();
      return waiting(status);
    }
    const token = this.byPid.get(pid);
    if (token === undefined) return;
    this.byPid.delete(pid);
    this.earlyExits.set(pid, status);
    setTimeout(() => {
      if (this.pending.has(token)) {
        this.earlyExits.delete(pid);
        // Its reason is on our stderr.
        this.take(token)!.reject(new SkiffError(`the native helper exited before it connected (wait status ${status})`, 'ECHILD'));
      }
    }, LATE_CONNECTION_MS);
  }

  private accept(socket: Socket): void {
    let hello = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      hello = Buffer.concat([hello, data]);
      const nl = hello.indexOf('\n');
      if (nl < 0) {
        if (hello.length > 160) socket.destroy();
        return;
      }
      socket.removeListener('data', onData);
      socket.pause();
      // What a program wrote right after its hello is its own output.
      if (nl + 1 < hello.length) socket.unshift(hello.subarray(nl + 1));
      const [token, pid, role] = hello.subarray(0, nl).toString('latin1').split(' ');
      const p = this.pending.get(token);
      if (!p || !p.roles.includes(role) || p.sockets.has(role)) return void socket.destroy();
      p.sockets.set(role, socket);
      if (p.sockets.size < p.roles.length) return;
      this.take(token);
      this.byPid.delete(Number(pid));
      p.resolve(Number(pid), p.sockets);
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  }
}

let active: HelperZygote | undefined;
/** A zygote to start at the first process started (useZygoteWhenNeeded), and its start once begun. */
let whenNeeded: (() => Promise<HelperZygote | undefined>) | undefined;
let starting: Promise<HelperZygote | undefined> | undefined;

/** From now on processes are started through `z` where they can be (a long-lived caller's choice: skiffd). */
export function useZygote(z: HelperZygote | undefined): void {
  active = z;
  whenNeeded = undefined;
  starting = undefined;
}

/**
 * Processes are started through a zygote from `start`, started with the first of them: a short-lived caller's
 * choice (a skiff command may start none, or a dozen). The first start costs a spawn, as without a zygote.
 */
export function useZygoteWhenNeeded(start: () => Promise<HelperZygote | undefined>): void {
  useZygote(undefined);
  whenNeeded = start;
}

/** The zygote to start processes through, if there is one and it runs. */
export async function activeZygote(): Promise<HelperZygote | undefined> {
  if (!active && whenNeeded) {
    starting ??= whenNeeded().then((z) => (active = z), () => undefined);
    await starting;
  }
  return active?.alive ? active : undefined;
}
