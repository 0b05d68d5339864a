// A reverse proxy in front of a test registry, on 127.0.0.1: it records every request (method, path, Range) and
// lets a test misbehave on purpose: answer with an error status, or send only the first N bytes of a body and
// then go silent (a stalled connection). Used to test retries, resumed downloads and download dedup.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  range?: string;
}

/** What to do with one request: pass it on, answer `status` instead, or pass only `stallAfter` body bytes. */
export type Misbehaviour = { status: number } | { stallAfter: number } | undefined;

export interface RegistryProxy {
  /** host:port of the proxy. */
  address: string;
  seen: Seen[];
  /** Decides per request; default: pass everything. */
  rule: (req: Seen) => Misbehaviour;
  /** Bytes of response bodies sent so far for requests whose path includes `part`. */
  bytesSent(part: string): number;
  stop(): Promise<void>;
}

export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const sent = new Map<string, number>();
  const sockets = new Set<Socket>();
  const proxy: RegistryProxy = {
    address: '',
    seen: [],
    rule: () => undefined,
    bytesSent: (part) => [...sent].filter(([path]) => path.includes(part)).reduce((n, [, b]) => n + b, 0),
    stop: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen: Seen = { method: req.method ?? 'GET', path: req.url ?? '/', range: req.headers.range };
    proxy.seen.push(seen);
    const action = proxy.rule(seen);
    if (action && 'status' in action) {
      res.writeHead(action.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'test proxy refused' }] }));
      return;
    }
    const up = request({ host: upstream.split(':')[0], port: Number(upstream.split(':')[1]), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } }, (upRes) => {
      const headers = { ...upRes.headers };
      // Locations the registry gives point at itself; the client must come back through us.
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${upstream}`, `//${proxy.address}`);
      res.writeHead(upRes.statusCode ?? 502, headers);
      let budget = action && 'stallAfter' in action ? action.stallAfter : Infinity;
      upRes.on('data', (chunk: Buffer) => {
        if (budget <= 0) return;
        const part = chunk.length > budget ? chunk.subarray(0, budget) : chunk;
        budget -= part.length;
        sent.set(seen.path, (sent.get(seen.path) ?? 0) + part.length);
        res.write(part);
      });
      // A stalled response never ends: the connection stays open and silent until the client gives up.
      upRes.on('end', () => { if (budget > 0) res.end(); });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}
