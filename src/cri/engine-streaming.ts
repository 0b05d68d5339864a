// The streaming server's backend on the engine: exec runs a process in the container (the engine's exec, its
// stdio as pipes; with a terminal the native helper's waiting parent holds the pty and relays it), attach is a
// client of the container's monitor (output, stdin, resizes), and port-forward opens a TCP connection to the port
// on the pod's loopback from inside the pod's network namespace.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Writable, type Duplex } from 'node:stream';
import { SkiffError } from '../common/errors.js';
import type { StreamingBackend, StreamSession } from './streaming/backend.js';
import type { CriContext } from './context.js';
import { criContainer } from './containers.js';
import { sandboxOf } from './sandboxes-view.js';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

/**
 * Relays `stream` to 127.0.0.1:PORT in the network namespace at `netns`: Node cannot setns(2) (it is
 * multithreaded), so a short-lived process does, for the connection's life: nsenter(1) into the namespace, then
 * this same Node binary relaying its stdin and stdout to the socket. Its stderr says why a connection failed.
 */
const RELAY = `const s=require('net').connect(Number(process.argv[1]),'127.0.0.1');
s.on('error',(e)=>{process.stderr.write(e.message);process.exit(1)});
s.on('connect',()=>{process.stdin.pipe(s);s.pipe(process.stdout)});
s.on('end',()=>process.stdout.end());process.stdout.on('finish',()=>process.exit(0));`;

function forwardInNetns(netns: string, port: number, stream: Duplex): Promise<void> {
  const child = spawn('nsenter', [`--net=${netns}`, '--', process.execPath, '-e', RELAY, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  stream.pipe(child.stdin);
  child.stdout.pipe(stream);
  child.stdin.on('error', () => {});
  stream.on('close', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new SkiffError(`port-forward to ${port}: ${err.message}`)));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new SkiffError(`port-forward to port ${port} in the pod: ${stderr.trim() || `relay exited with ${code}`}`));
    });
  });
}

function forwardHere(port: number, stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('error', (err) => reject(new SkiffError(`port-forward to port ${port}: ${err.message}`)));
    s.once('connect', () => {
      stream.pipe(s);
      s.pipe(stream);
    });
    stream.on('close', () => s.destroy());
    s.once('close', () => resolve());
  });
}

export class EngineStreaming implements StreamingBackend {
  constructor(private readonly ctx: CriContext) {}

  async exec(containerId: string, cmd: string[], session: StreamSession): Promise<number> {
    const v = await criContainer(this.ctx, containerId);
    if (v.status !== 'running') throw new SkiffError(`container ${containerId} is not running`, 'EINVAL');
    const result = await this.ctx.engine.exec(v.record.id, {
      command: cmd, tty: session.tty, stdio: [session.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const { stdin, stdout, stderr } = result.pipes;
    if (session.stdin && stdin) {
      stdin.on('error', () => {});
      session.stdin.pipe(stdin);
    }
    stdout?.pipe(session.stdout ?? sink(), { end: false });
    stderr?.pipe(session.stderr ?? session.stdout ?? sink(), { end: false });
    if (session.resizes) {
      void (async () => {
        for await (const size of session.resizes!) result.resize(size.height, size.width);
      })().catch(() => {});
    }
    const onAbort = () => {
      try {
        process.kill(result.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    };
    session.signal.addEventListener('abort', onAbort);
    try {
      const exit = await result.exit!;
      // What the pipes still hold once the process ended.
      await Promise.all([stdout, stderr].map((s) => s && !s.readableEnded ? new Promise((r) => { s.once('end', r); s.once('close', r); setTimeout(r, 1000); }) : undefined));
      return exit.signal ? 128 + exit.signal : exit.exitCode;
    } finally {
      session.signal.removeEventListener('abort', onAbort);
      if (session.stdin && stdin) session.stdin.unpipe(stdin);
    }
  }

  async attach(containerId: string, session: StreamSession): Promise<void> {
    const v = await criContainer(this.ctx, containerId);
    const attachment = await this.ctx.engine.attach(v.record.id, {
      stdin: session.stdin, stdout: session.stdout ?? sink(), stderr: session.stderr ?? session.stdout ?? sink(),
      closeStdinAtEnd: Boolean(v.record.config.stdinOnce),
    });
    if (session.resizes) {
      void (async () => {
        for await (const size of session.resizes!) attachment.resize(size.height, size.width);
      })().catch(() => {});
    }
    const onAbort = () => attachment.detach();
    session.signal.addEventListener('abort', onAbort);
    try {
      await attachment.done;
    } finally {
      session.signal.removeEventListener('abort', onAbort);
    }
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void> {
    const pod = await sandboxOf(this.ctx, this.ctx.sandboxes, podSandboxId);
    if (pod.status !== 'running') throw new SkiffError(`sandbox ${podSandboxId} is not ready`, 'EINVAL');
    // The node's network: the port is on our own loopback.
    if (!pod.netnsPath || pod.network === 'host') return forwardHere(port, stream);
    return forwardInNetns(pod.netnsPath, port, stream);
  }
}
