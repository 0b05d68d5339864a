// The streaming server: an HTTP server (loopback by default) where clients of the Exec, Attach and PortForward
// RPCs connect. Each RPC stores its request under a single-use token and returns http://ADDRESS/{exec,attach,
// portforward}/TOKEN, as the kubelet's streaming package does; a connection there upgrades to SPDY/3.1 or to a
// WebSocket (whichever it asks for) and the session runs through the backend. The token is the only credential,
// hence random, short-lived and usable once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { invalidArgument } from '../grpc-error.js';
import type { Logger } from '../log.js';
import type { AttachRequest__Output } from '../proto/generated/runtime/v1/AttachRequest.js';
import type { ExecRequest__Output } from '../proto/generated/runtime/v1/ExecRequest.js';
import type { PortForwardRequest__Output } from '../proto/generated/runtime/v1/PortForwardRequest.js';
import type { StreamingBackend } from './backend.js';
import type { CommandRequest } from './remote-command.js';
import { RequestCache } from './request-cache.js';
import { SpdyConnection } from './spdy-connection.js';
import { commandStreams, PORT_FORWARD_PROTOCOL, serveSpdyCommand, servePortForward, SPDY_COMMAND_PROTOCOLS } from './spdy-sessions.js';
import { serveWebSocketCommand, serveWebSocketPortForward, WS_COMMAND_PROTOCOLS, WS_PORT_FORWARD_PROTOCOLS } from './websocket-sessions.js';

type Cached = CommandRequest | { kind: 'portforward'; podSandboxId: string; ports: number[] };

const ROUTE = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

/** Comma-separated values of a header that may come several times (node joins repeats with ", "). */
function headerList(value: string | string[] | undefined): string[] {
  return [value ?? ''].flat().join(',').split(',').map((v) => v.trim()).filter(Boolean);
}

/** An HTTP error on a socket that asked for an upgrade (no ServerResponse exists for it). */
function refuse(socket: Socket, code: number, reason: string, message: string, headers: Record<string, string> = {}): void {
  const body = `${message}\n`;
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}

function validateStreams(r: { container_id: string; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): void {
  if (!r.container_id) throw invalidArgument('container_id: missing');
  if (r.tty && r.stderr) throw invalidArgument('tty and stderr cannot both be true: a terminal merges stderr into stdout');
  if (!r.stdin && !r.stdout && !r.stderr) throw invalidArgument('one of stdin, stdout and stderr must be true');
}

export class StreamingServer {
  private readonly cache = new RequestCache<Cached>();
  private readonly sessions = new Set<Socket>();
  private readonly commandWs = new WebSocketServer({ noServer: true, handleProtocols: (offered) => WS_COMMAND_PROTOCOLS.find((p) => offered.has(p)) ?? false });
  private readonly portForwardWs = new WebSocketServer({ noServer: true, handleProtocols: (offered) => WS_PORT_FORWARD_PROTOCOLS.find((p) => offered.has(p)) ?? false });

  private constructor(private readonly http: Server, readonly baseUrl: string, private readonly backend: StreamingBackend, private readonly log: Logger) {
    http.on('request', (req: IncomingMessage, res: ServerResponse) => this.plainRequest(req, res));
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    http.on('connection', (socket: Socket) => {
      this.sessions.add(socket);
      socket.once('close', () => this.sessions.delete(socket));
    });
  }

  /** Listens on host:port (port 0: a free one); URLs name the address really bound. */
  static async start(host: string, port: number, backend: StreamingBackend, log: Logger): Promise<StreamingServer> {
    const http = createServer();
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => resolve());
    });
    const bound = http.address() as { address: string; port: number };
    const hostPart = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
    return new StreamingServer(http, `http://${hostPart}:${bound.port}`, backend, log);
  }

  execUrl(r: ExecRequest__Output): string {
    validateStreams(r);
    if (r.cmd.length === 0) throw invalidArgument('cmd: no command given');
    return this.url('exec', { kind: 'exec', containerId: r.container_id, cmd: r.cmd, stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, tty: r.tty });
  }

  attachUrl(r: AttachRequest__Output): string {
    validateStreams(r);
    return this.url('attach', { kind: 'attach', containerId: r.container_id, cmd: [], stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, tty: r.tty });
  }

  portForwardUrl(r: PortForwardRequest__Output): string {
    if (!r.pod_sandbox_id) throw invalidArgument('pod_sandbox_id: missing');
    const bad = r.port.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
    if (bad !== undefined) throw invalidArgument(`port: ${bad} is not a port (1 to 65535)`);
    return this.url('portforward', { kind: 'portforward', podSandboxId: r.pod_sandbox_id, ports: r.port });
  }

  private url(path: string, request: Cached): string {
    return `${this.baseUrl}/${path}/${this.cache.insert(request)}`;
  }

  /** The request a path's token stands for, taken from the cache (once), if it is for that kind of session. */
  private take(url: string | undefined): Cached | undefined {
    const m = ROUTE.exec(new URL(url ?? '/', 'http://x').pathname);
    if (!m) return undefined;
    const cached = this.cache.consume(m[2]);
    return cached?.kind === m[1] ? cached : undefined;
  }

  private plainRequest(req: IncomingMessage, res: ServerResponse): void {
    const found = (req.method === 'GET' || req.method === 'POST') && this.take(req.url);
    res.writeHead(found ? 400 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(found ? 'unable to upgrade: missing upgrade headers in request (SPDY/3.1 or websocket)\n' : '404 page not found\n');
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const cached = req.method === 'GET' || req.method === 'POST' ? this.take(req.url) : undefined;
    if (!cached) return refuse(socket, 404, 'Not Found', '404 page not found');
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') return this.websocket(cached, req, socket, head);
    if (!upgrade.includes('spdy/3.1')) return refuse(socket, 400, 'Bad Request', `unable to upgrade: missing upgrade headers in request: Upgrade "${req.headers.upgrade ?? ''}"`);
    this.spdy(cached, req, socket, head);
  }

  private spdy(cached: Cached, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const ours = cached.kind === 'portforward' ? [PORT_FORWARD_PROTOCOL] : SPDY_COMMAND_PROTOCOLS;
    const offered = headerList(req.headers['x-stream-protocol-version']);
    if (offered.length === 0) return refuse(socket, 400, 'Bad Request', 'unable to upgrade: X-Stream-Protocol-Version is required');
    // httpstream.Handshake: the first version the client lists that the server speaks.
    const protocol = offered.find((p) => ours.includes(p));
    if (!protocol) {
      return refuse(socket, 403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${ours.join(' ')}]`,
        { 'X-Accepted-Stream-Protocol-Versions': ours.join(', ') });
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    if (cached.kind === 'portforward') {
      const log = this.log.child({ podSandboxId: cached.podSandboxId, transport: 'spdy' });
      new SpdyConnection(socket, head, servePortForward(cached.podSandboxId, this.backend, log));
      return;
    }
    const collected = commandStreams(cached, protocol);
    const conn = new SpdyConnection(socket, head, collected.accept);
    const log = this.log.child({ container: cached.containerId, session: cached.kind, transport: 'spdy', protocol });
    void serveSpdyCommand(conn, collected, cached, protocol, this.backend, log);
  }

  private websocket(cached: Cached, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const wss = cached.kind === 'portforward' ? this.portForwardWs : this.commandWs;
    const ours = cached.kind === 'portforward' ? WS_PORT_FORWARD_PROTOCOLS : WS_COMMAND_PROTOCOLS;
    const offered = headerList(req.headers['sec-websocket-protocol']);
    if (offered.length && !offered.some((p) => ours.includes(p))) {
      return refuse(socket, 400, 'Bad Request', `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${ours.join(' ')}]`);
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const log = this.log.child({ session: cached.kind, transport: 'websocket', protocol: ws.protocol });
      const served = cached.kind === 'portforward'
        ? serveWebSocketPortForward(ws, cached.podSandboxId, cached.ports, this.backend, log)
        : serveWebSocketCommand(ws, cached, this.backend, log);
      served.catch((err: Error) => log.error({ err: err.message }, 'streaming session failed'));
    });
  }

  /** Stops listening and ends every open session (their processes are the backend's: they are not touched). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const socket of this.sessions) socket.destroy();
    this.commandWs.close();
    this.portForwardWs.close();
    await closed;
  }
}
