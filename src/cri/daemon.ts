// skiffd's life: claim the socket, serve the CRI on it (and the streaming server beside it), and stop cleanly:
// stop accepting, give calls in flight a moment, end streaming sessions, remove the socket. Containers and pods
// are never touched by a stop: they run on without skiffd, and the next skiffd finds them.
import { ServerCredentials } from '@grpc/grpc-js';
import { lstatSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { parseHostPort, type SkiffdConfig } from './config.js';
import type { CriContext } from './context.js';
import { AuthorityFixingConnection } from './h2-authority.js';
import type { Logger } from './log.js';
import { PodCidrs } from './pod-cidr.js';
import { createCriServer } from './server.js';
import type { StreamingBackend } from './streaming/backend.js';
import { StreamingServer } from './streaming/server.js';
import { Engine } from '../engine/engine.js';
import { ContainerEvents } from './container-events.js';
import { containerEvent } from './container-events-get.js';
import { EngineStreaming } from './engine-streaming.js';
import type { Sandboxes } from './sandboxes.js';
import { Pods } from '../pod/pods.js';

export interface SkiffdOptions {
  config: SkiffdConfig;
  log: Logger;
  /** Runs exec, attach and port-forward sessions (default: the engine's, engine-streaming.ts). */
  streamingBackend?: StreamingBackend;
  /** The pods on skiffd's engine (default: src/pod's Pods). */
  sandboxes?: (engine: Engine) => Sandboxes;
}

export interface RunningSkiffd {
  /** unix:///PATH */
  endpoint: string;
  /** The streaming server's base URL, when there is a backend. */
  streamingUrl?: string;
  /** Stops as described above; calls still running after `graceMs` are cancelled. */
  stop(graceMs?: number): Promise<void>;
}

/** How long a stop waits for calls in flight before cancelling them. */
export const STOP_GRACE_MS = 5000;

/** Whether a server answers on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (yes: boolean) => {
      s.destroy();
      resolve(yes);
    };
    s.once('connect', () => done(true)).once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

/**
 * Makes `path` free for our socket: a socket nobody answers on (a skiffd that was killed) is removed; a live one
 * means another server is running, and anything that is not a socket is not ours to remove.
 */
async function claimSocket(path: string): Promise<void> {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isSocket()) throw new SkiffError(`socket ${path}: exists and is not a socket; not removing it`, 'EEXIST');
  if (await answers(path)) throw new SkiffError(`socket ${path}: another server is listening on it (is skiffd already running?)`, 'EADDRINUSE');
  await rm(path, { force: true });
}

function listen(path: string, onConnection: (socket: Socket) => void): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    const listener = createServer(onConnection);
    listener.once('error', reject);
    listener.listen(path, () => resolve(listener));
  });
}

export async function startSkiffd({ config, log, streamingBackend, sandboxes }: SkiffdOptions): Promise<RunningSkiffd> {
  const started = performance.now();
  await mkdir(dirname(config.socket), { recursive: true });
  await claimSocket(config.socket);
  await mkdir(config.root, { recursive: true });
  await mkdir(config.state, { recursive: true });
  const { host, port } = parseHostPort(config.streamingAddress)!;
  const engine = new Engine({
    root: config.root, state: config.state, cniConfDirs: [config.cniConfDir], cniPluginDirs: config.cniBinDirs,
    warn: (m) => log.warn(m),
    runtimes: Object.fromEntries(Object.entries(config.runtimeHandlers).map(([name, h]) => [name, h.binary])),
  });
  const stopZygote = await engine.useHelperZygote();
  const ctx: CriContext = { config, log, podCidrs: new PodCidrs(config.state), engine, sandboxes: sandboxes ? sandboxes(engine) : new Pods(engine), events: new ContainerEvents() };
  const streaming = await StreamingServer.start(host, port, streamingBackend ?? new EngineStreaming(ctx), log);
  ctx.streaming = streaming;
  ctx.events.start(engine.ctx.paths.exits, (id, type) => containerEvent(ctx, id, type), (m) => log.warn(m));
  const server = createCriServer(ctx);
  // skiffd listens itself and hands each connection to the gRPC server through h2-authority.ts (see there why).
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const endpoint = `unix://${config.socket}`;
  let listener: NetServer;
  try {
    listener = await listen(config.socket, (socket) => injector.injectConnection(new AuthorityFixingConnection(socket)));
  } catch (err) {
    await streaming?.close();
    ctx.events.stop();
    await stopZygote();
    throw new SkiffError(`socket ${config.socket}: ${(err as Error).message}`, 'EADDRINUSE');
  }
  // The CRI has no authentication: whoever can open the socket runs containers as root (containerd: 0660 too).
  await chmod(config.socket, 0o660);
  const socketIno = lstatSync(config.socket).ino;
  log.info({ endpoint, streaming: streaming?.baseUrl ?? null, root: config.root, state: config.state, ms: Math.round(performance.now() - started) }, 'skiffd serving');

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = STOP_GRACE_MS) => (stopping ??= (async () => {
    log.info({ graceMs }, 'skiffd stopping');
    const unlistened = new Promise<void>((resolve) => listener.close(() => resolve()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        log.warn('calls still running after the grace period: cancelled');
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await unlistened;
    await streaming?.close();
    ctx.events.stop();
    await stopZygote();
    // Only our own socket: a new skiffd may already have replaced it.
    if (lstatSync(config.socket, { throwIfNoEntry: false })?.ino === socketIno) await rm(config.socket, { force: true });
    log.info('skiffd stopped');
  })());
  return { endpoint, streamingUrl: streaming?.baseUrl, stop };
}

