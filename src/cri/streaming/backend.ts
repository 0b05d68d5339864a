// What the streaming server needs from whoever runs containers (the engine): run a command, attach to a container's
// process, reach a port in a pod. The server turns a client's SPDY or WebSocket connection into these calls; the
// backend never sees a protocol, only Node streams.
import type { Duplex, Readable, Writable } from 'node:stream';

/** A terminal's size in characters, as the client's TerminalSize JSON ({"Width": .., "Height": ..}) has it. */
export interface TerminalSize {
  width: number;
  height: number;
}

/** One exec or attach session's streams, as the request asked for them. */
export interface StreamSession {
  /** The client's input; ends when the client closes its stdin. Absent when stdin was not asked for. */
  stdin?: Readable;
  /** The process's output goes here; the server ends it (and stderr) once the call has settled. */
  stdout?: Writable;
  /** Absent with tty: a terminal merges stderr into stdout. */
  stderr?: Writable;
  tty: boolean;
  /**
   * With tty, the sizes the client's terminal takes, the first soon after the session starts (the client sends
   * its size at once); absent without tty, or when the client's protocol cannot resize (v2).
   */
  resizes?: AsyncIterable<TerminalSize>;
  /** Aborted when the client goes away: the backend stops feeding the session (an exec'd process may go on). */
  signal: AbortSignal;
}

export interface StreamingBackend {
  /**
   * Runs `cmd` in the container with the session's streams; resolves with its exit status (0 to 255: a signal's
   * death as 128+N). Rejects when the command could not be run at all; the message reaches the client.
   */
  exec(containerId: string, cmd: string[], session: StreamSession): Promise<number>;
  /** Attaches the session to the container's main process; resolves when it exits or the client leaves. */
  attach(containerId: string, session: StreamSession): Promise<void>;
  /**
   * Connects `stream` to `port` on the pod's loopback, inside its network namespace, both ways; resolves when both
   * directions are done. Ending `stream` (the client closed its side) half-closes the connection; the backend ends
   * `stream` when the pod's side closes. A client that goes away destroys `stream` ('close' without 'end'): the
   * backend drops the connection then.
   */
  portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void>;
}
