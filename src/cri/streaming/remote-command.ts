// The remote-command protocol (exec and attach) over either transport: the client's stdin, stdout, stderr, resize
// and error streams become a StreamSession for the backend; when the backend settles, the output streams end and
// the exit status goes on the error stream (status.ts), then the connection closes. Versions, as the kubelet
// speaks them: v1 (channel.k8s.io) and v2 carry a failure's message as text; v3 adds the resize stream; v4 carries
// a metav1.Status as JSON (the exit code included); v5 (WebSocket only) adds closing stdin.
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from '../log.js';
import type { StreamingBackend, StreamSession, TerminalSize } from './backend.js';
import { exitCodeStatus, internalErrorStatus, successStatus, type KubeStatus } from './status.js';

export const PROTOCOL_V1 = 'channel.k8s.io';
export const PROTOCOL_V2 = 'v2.channel.k8s.io';
export const PROTOCOL_V3 = 'v3.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';
export const PROTOCOL_V5 = 'v5.channel.k8s.io';

/** What the cached Exec or Attach request asked for. */
export interface CommandRequest {
  kind: 'exec' | 'attach';
  containerId: string;
  cmd: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The client's streams, whichever transport carries them, and how to answer on them. */
export interface CommandChannels {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** The client's resize stream: TerminalSize JSON objects, one after another. */
  resize?: Readable;
  /** Writes the status on the error stream as the negotiated version wants it, and ends that stream. */
  writeStatus(status: KubeStatus): Promise<void>;
  close(): Promise<void>;
  /** Settles when the client goes away. */
  closed: Promise<void>;
}

/** Whether a version's error stream carries a metav1.Status as JSON. */
export function hasJsonStatus(protocol: string): boolean {
  return protocol === PROTOCOL_V4 || protocol === PROTOCOL_V5 || protocol === 'v4.base64.channel.k8s.io';
}

/**
 * Sizes as an async iterable that never holds the client up: the resize stream is always read, and a size the
 * backend has not taken yet is replaced by a newer one (a terminal only needs its latest size).
 */
function terminalSizes(stream: Readable): AsyncIterable<TerminalSize> {
  let latest: TerminalSize | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    const objects = /\{[^{}]*\}/g;
    let used = 0;
    for (let m = objects.exec(text); m; m = objects.exec(text)) {
      used = objects.lastIndex;
      try {
        const { Width, Height } = JSON.parse(m[0]) as { Width?: unknown; Height?: unknown };
        if (Number.isInteger(Width) && Number.isInteger(Height)) latest = { width: Width as number, height: Height as number };
      } catch {
        // Not a TerminalSize: the client's mistake costs it that one resize, as in the kubelet.
      }
    }
    text = text.slice(used);
    wake?.();
  });
  const end = () => {
    ended = true;
    wake?.();
  };
  stream.once('end', end).once('close', end).once('error', end);
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (latest) {
          const size = latest;
          latest = undefined;
          yield size;
        } else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/** Runs one exec or attach session to its end and closes the connection. */
export async function serveCommand(request: CommandRequest, channels: CommandChannels, backend: StreamingBackend, log: Logger): Promise<void> {
  const gone = new AbortController();
  void channels.closed.then(() => gone.abort());
  const session: StreamSession = {
    stdin: channels.stdin, stdout: channels.stdout, stderr: request.tty ? undefined : channels.stderr, tty: request.tty,
    resizes: request.tty && channels.resize ? terminalSizes(channels.resize) : undefined, signal: gone.signal,
  };
  let status: KubeStatus;
  try {
    if (request.kind === 'exec') {
      const code = await backend.exec(request.containerId, request.cmd, session);
      status = code === 0 ? successStatus() : exitCodeStatus(code, request.cmd);
    } else {
      await backend.attach(request.containerId, session);
      status = successStatus();
    }
  } catch (err) {
    const message = `error ${request.kind === 'exec' ? 'executing command in' : 'attaching to'} container ${request.containerId}: ${(err as Error).message}`;
    log.warn({ container: request.containerId, err: message }, `${request.kind} failed`);
    status = internalErrorStatus(message);
  }
  // Output first, then the status: the client returns as soon as it has read the status.
  await Promise.all([channels.stdout, channels.stderr].map(async (s) => {
    if (!s || s.writableFinished || s.destroyed) return;
    s.end();
    await finished(s, { readable: false }).catch(() => {});
  }));
  if (!gone.signal.aborted) await channels.writeStatus(status).catch(() => {});
  await channels.close();
}

