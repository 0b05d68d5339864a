// Exec, attach and port-forward over SPDY, as the kubelet serves them to kubectl and crictl. Exec and attach: the
// client opens one stream per channel, named by its streamType header (error, stdin, stdout, stderr, and resize
// from v3 on); the session starts once all the request asked for are open (30 s at most). Port-forward: per
// forwarded connection, the client opens an error and a data stream, paired by their requestID header, both naming
// the port; each complete pair is one backend connection.
import type { Logger } from '../log.js';
import type { StreamingBackend } from './backend.js';
import { hasJsonStatus, PROTOCOL_V2, PROTOCOL_V3, PROTOCOL_V4, serveCommand, type CommandChannels, type CommandRequest } from './remote-command.js';
import type { SpdyConnection, SpdyStream } from './spdy-connection.js';
import { encodeStatus } from './status.js';

/** The kubelet's DefaultStreamCreationTimeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** Protocol versions for exec and attach over SPDY, in the kubelet's order of preference. */
export const SPDY_COMMAND_PROTOCOLS = [PROTOCOL_V4, PROTOCOL_V3, PROTOCOL_V2, 'channel.k8s.io'];
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/**
 * Collects the streams of one exec or attach session; call `accept` with each new stream. `ready` resolves with
 * the streams once all expected ones are open, or rejects after the creation timeout.
 */
export function commandStreams(request: CommandRequest, protocol: string) {
  const wanted = new Set<StreamType>(['error']);
  if (request.stdin) wanted.add('stdin');
  if (request.stdout) wanted.add('stdout');
  if (request.stderr && !request.tty) wanted.add('stderr');
  if (request.tty && protocol !== PROTOCOL_V2 && protocol !== 'channel.k8s.io') wanted.add('resize');
  const got = new Map<StreamType, SpdyStream>();
  let resolveReady: (streams: Map<StreamType, SpdyStream>) => void;
  let rejectReady: (err: Error) => void;
  const ready = new Promise<Map<StreamType, SpdyStream>>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const timer = setTimeout(() => rejectReady(new Error('timed out waiting for the client to create its streams')), STREAM_CREATION_TIMEOUT_MS);
  const accept = (stream: SpdyStream): boolean => {
    const type = stream.headers.streamtype as StreamType;
    if (!wanted.has(type) || got.has(type)) return false;
    got.set(type, stream);
    if (got.size === wanted.size) {
      clearTimeout(timer);
      resolveReady(got);
    }
    return true;
  };
  return { accept, ready, cancel: () => clearTimeout(timer) };
}

/** Runs an exec or attach session on a connection whose streams `collected` gathers. */
export async function serveSpdyCommand(conn: SpdyConnection, collected: ReturnType<typeof commandStreams>, request: CommandRequest, protocol: string, backend: StreamingBackend, log: Logger): Promise<void> {
  let streams: Map<StreamType, SpdyStream>;
  try {
    streams = await Promise.race([collected.ready, conn.closed.then(() => Promise.reject(new Error('the client went away')))]);
  } catch (err) {
    collected.cancel();
    log.warn({ container: request.containerId, err: (err as Error).message }, `${request.kind}: no session`);
    await conn.close();
    return;
  }
  const error = streams.get('error')!;
  const channels: CommandChannels = {
    stdin: streams.get('stdin'), stdout: streams.get('stdout'), stderr: streams.get('stderr'), resize: streams.get('resize'),
    async writeStatus(status) {
      const bytes = encodeStatus(status, hasJsonStatus(protocol));
      await new Promise<void>((resolve) => (bytes ? error.end(bytes, resolve) : error.end(resolve)));
    },
    close: () => conn.close(),
    closed: conn.closed,
  };
  await serveCommand(request, channels, backend, log);
}

/** Serves port-forward streams until the client closes the connection. Returns the stream acceptor. */
export function servePortForward(podSandboxId: string, backend: StreamingBackend, log: Logger): (stream: SpdyStream) => boolean {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();
  return (stream) => {
    const type = stream.headers.streamtype;
    const port = Number(stream.headers.port);
    if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) return false;
    // Clients too old to send a requestID open error then data with consecutive odd IDs (kubelet's fallback).
    const requestId = stream.headers.requestid ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(requestId);
        pair?.error?.end(`timed out waiting for the streams of request ${requestId}`);
        pair?.data?.destroy();
      }, STREAM_CREATION_TIMEOUT_MS);
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      pair.error?.write(`error processing stream for request ${requestId}: ${type} stream already assigned`);
      return false;
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      const { data, error } = pair;
      void backend.portForward(podSandboxId, port, data).then(
        () => error.end(),
        (err: Error) => {
          const message = `error forwarding port ${port} to pod ${podSandboxId}: ${err.message}`;
          log.warn({ podSandboxId, port, err: message }, 'port-forward failed');
          error.end(message);
          data.destroy();
        },
      );
    }
    return true;
  };
}
