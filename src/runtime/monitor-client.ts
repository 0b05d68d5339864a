// The client side of a container's monitor (docs/monitor.md): attach to its socket (output, stdin, resize),
// ask it to reopen the log, read the exit file it wrote.
import { readFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { SkiffError } from '../common/errors.js';
import { describeErrno } from '../native/launcher.js';

/** Frame types of the attach protocol; an 8-byte header: type, three zero bytes, payload length (uint32 BE). */
export const FRAME = {
  STDIN: 0, STDOUT: 1, STDERR: 2, CLOSE_STDIN: 3, RESIZE: 4, REOPEN_LOG: 5, LOG_REOPENED: 6, EXIT: 7, ATTACHED: 8,
} as const;

const HEADER = 8;

export interface MonitorExit {
  exitCode: number;
  /** The signal that killed the container's process, if one did (exitCode is then 128 + signal). */
  signal?: number;
  /** The OOM killer killed a process of the container's cgroup while the monitor watched it. */
  oomKilled: boolean;
  /** RFC 3339 with nanoseconds, UTC. */
  finishedAt: string;
}

export interface AttachStreams {
  /** Sent to the container's stdin (taken only if the container was created with MonitorOptions.stdin). */
  stdin?: Readable;
  /** The container's stdout, or its terminal. */
  stdout: Writable;
  stderr: Writable;
  /** When `stdin` ends, close the container's stdin (docker's stdin-once). With a terminal it only stops input. */
  closeStdinAtEnd?: boolean;
}

export interface Attachment {
  /** Sets the container's terminal size (ignored without a terminal). */
  resize(rows: number, cols: number): void;
  /** Leaves the container running and stops reading `stdin`. */
  detach(): void;
  /** Settles when the attachment ends: the container's exit if it exited, undefined if detached or cut off. */
  done: Promise<MonitorExit | undefined>;
}

function frame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(HEADER);
  head[0] = type;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** Splits the byte stream into frames. */
function readFrames(socket: Socket, onFrame: (type: number, payload: Buffer) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= HEADER) {
      const len = buffered.readUInt32BE(4);
      if (buffered.length < HEADER + len) break;
      const type = buffered[0], payload = buffered.subarray(HEADER, HEADER + len);
      buffered = buffered.subarray(HEADER + len);
      onFrame(type, payload);
    }
  });
}

/** Connects and waits for ATTACHED: from then on the client receives all output. */
function connect(socketPath: string, onFrame: (type: number, payload: Buffer) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let attached = false;
    const fail = (err: Error) => {
      if (attached) return;
      const code = (err as NodeJS.ErrnoException).code;
      socket.destroy();
      reject(code === 'ENOENT' || code === 'ECONNREFUSED'
        ? new SkiffError(`the container is not running (no monitor listens on ${socketPath})`, 'ESRCH')
        : new SkiffError(`attach ${socketPath}: ${err.message}`, code ?? 'EIO'));
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new SkiffError(
      'the monitor closed the connection before attaching it (the container exited, or it has too many clients)', 'ECONNRESET')));
    readFrames(socket, (type, payload) => {
      if (type === FRAME.ATTACHED && !attached) {
        attached = true;
        resolve(socket);
      } else {
        onFrame(type, payload);
      }
    });
  });
}

/** Attaches to the monitor at `socketPath`; resolves once it is registered, so no output after that is missed. */
export async function attach(socketPath: string, streams: AttachStreams): Promise<Attachment> {
  let exit: MonitorExit | undefined;
  let socket: Socket | undefined;
  // Backpressure: while stdout or stderr is full, the socket is not read, so the monitor waits (docs/monitor.md).
  let full = 0;
  const output = (stream: Writable, payload: Buffer) => {
    if (stream.write(payload)) return;
    if (full++ === 0) socket?.pause();
    stream.once('drain', () => { if (--full === 0) socket?.resume(); });
  };
  socket = await connect(socketPath, (type, payload) => {
    if (type === FRAME.STDOUT) output(streams.stdout, payload);
    else if (type === FRAME.STDERR) output(streams.stderr, payload);
    else if (type === FRAME.EXIT) exit = parseExit(payload.toString('utf8'));
  });
  const sock = socket;
  sock.removeAllListeners('error');
  sock.on('error', () => {}); // a monitor that goes away ends the attachment; 'close' follows

  const stdin = streams.stdin;
  const onData = (chunk: Buffer | string) => {
    if (!sock.write(frame(FRAME.STDIN, Buffer.from(chunk)))) {
      stdin!.pause();
      sock.once('drain', () => stdin!.resume());
    }
  };
  const onEnd = () => { if (streams.closeStdinAtEnd) sock.write(frame(FRAME.CLOSE_STDIN)); };
  const stopStdin = () => {
    if (!stdin) return;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
  };
  if (stdin) {
    stdin.on('data', onData);
    stdin.on('end', onEnd);
  }
  let detached = false;
  const done = new Promise<MonitorExit | undefined>((resolve) => {
    sock.on('close', () => {
      stopStdin();
      resolve(detached ? undefined : exit);
    });
  });
  return {
    resize(rows, cols) {
      const size = Buffer.alloc(4);
      size.writeUInt16BE(rows, 0);
      size.writeUInt16BE(cols, 2);
      sock.write(frame(FRAME.RESIZE, size));
    },
    detach() {
      detached = true;
      stopStdin();
      sock.destroy();
    },
    done,
  };
}

/** Asks the monitor to close and reopen its log file (CRI ReopenContainerLog, after the log was renamed). */
export async function reopenLog(socketPath: string): Promise<void> {
  let answer: (errno: number) => void = () => {};
  const answered = new Promise<number>((resolve) => { answer = resolve; });
  const socket = await connect(socketPath, (type, payload) => {
    if (type === FRAME.LOG_REOPENED) answer(payload.readUInt32BE(0));
  });
  socket.on('close', () => answer(-1));
  socket.write(frame(FRAME.REOPEN_LOG));
  const errno = await answered;
  socket.destroy();
  if (errno === -1) throw new SkiffError('the monitor went away before it reopened the log', 'ECONNRESET');
  if (errno !== 0) {
    const [name, text] = describeErrno(errno) ?? ['EIO', `errno ${errno}`];
    throw new SkiffError(`the monitor could not reopen the log: ${text}`, name);
  }
}

function parseExit(text: string): MonitorExit {
  const j = JSON.parse(text) as { exitCode: number; signal: number; oomKilled: boolean; finishedAt: string };
  return { exitCode: j.exitCode, ...(j.signal ? { signal: j.signal } : {}), oomKilled: j.oomKilled, finishedAt: j.finishedAt };
}

/** The exit the monitor recorded, or undefined while there is none (the container has not exited yet). */
export async function readExitFile(path: string): Promise<MonitorExit | undefined> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined ? undefined : parseExit(text);
}
