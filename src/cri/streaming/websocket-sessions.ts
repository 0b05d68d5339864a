// Exec, attach and port-forward over WebSocket, as the kubelet serves them. Exec and attach: channels 0 stdin,
// 1 stdout, 2 stderr, 3 error, 4 resize; once connected, an empty message on the lowest output channel the request
// asked for tells the client the session is open. Port-forward: two channels per requested port (data 2n, error
// 2n+1), each opened by the port as a little-endian 16-bit number; one backend connection per port.
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { StreamingBackend } from './backend.js';
import { hasJsonStatus, PROTOCOL_V1, PROTOCOL_V4, PROTOCOL_V5, serveCommand, type CommandChannels, type CommandRequest } from './remote-command.js';
import { encodeStatus } from './status.js';
import { WebSocketChannels } from './websocket-channels.js';

const BASE64 = 'base64.channel.k8s.io';
/** Subprotocols for exec and attach ("" is none offered: binary channels). */
export const WS_COMMAND_PROTOCOLS = [PROTOCOL_V5, PROTOCOL_V4, `v4.${BASE64}`, PROTOCOL_V1, BASE64];
export const WS_PORT_FORWARD_PROTOCOLS = [PROTOCOL_V4, `v4.${BASE64}`];

const isBase64 = (protocol: string) => protocol.endsWith(BASE64);

export async function serveWebSocketCommand(ws: WebSocket, request: CommandRequest, backend: StreamingBackend, log: Logger): Promise<void> {
  const protocol = ws.protocol;
  const mux = new WebSocketChannels(ws, 5, isBase64(protocol), protocol === PROTOCOL_V5);
  const [stdin, stdout, stderr, error, resize] = mux.channels;
  const opened = request.stdout ? stdout : request.stderr && !request.tty ? stderr : error;
  await mux.send(opened.num, Buffer.alloc(0)).catch(() => {});
  const channels: CommandChannels = {
    stdin: request.stdin ? stdin : undefined, stdout: request.stdout ? stdout : undefined,
    stderr: request.stderr && !request.tty ? stderr : undefined, resize: request.tty ? resize : undefined,
    async writeStatus(status) {
      const bytes = encodeStatus(status, hasJsonStatus(protocol));
      if (bytes) await mux.send(error.num, bytes);
    },
    close: () => mux.close(),
    closed: mux.closed,
  };
  await serveCommand(request, channels, backend, log);
}

export async function serveWebSocketPortForward(ws: WebSocket, podSandboxId: string, ports: number[], backend: StreamingBackend, log: Logger): Promise<void> {
  const mux = new WebSocketChannels(ws, 2 * ports.length, isBase64(ws.protocol), false);
  await Promise.all(ports.map(async (port, i) => {
    const data = mux.channels[2 * i];
    const error = mux.channels[2 * i + 1];
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    try {
      await mux.send(data.num, portBytes);
      await mux.send(error.num, portBytes);
      await backend.portForward(podSandboxId, port, data);
    } catch (err) {
      const message = `error forwarding port ${port} to pod ${podSandboxId}: ${(err as Error).message}`;
      log.warn({ podSandboxId, port, err: message }, 'port-forward failed');
      await mux.send(error.num, Buffer.from(message)).catch(() => {});
    }
  }));
  await mux.close();
}
