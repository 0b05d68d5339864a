// The streaming server end to end: skiffd (in this process, with a backend that runs real processes in place of its
// containers; the CRI containers and pod they stand for are real ones in a stand-in pod layer, so that the calls'
// checks pass) hands out Exec, Attach and PortForward URLs, and real clients use them: crictl 1.26 over SPDY (exec with and without stdin,
// exec -it on a real terminal, attach, port-forward to a real TCP server), and WebSocket clients (ws) speaking
// channel.k8s.io v4, base64, and v5 with its stdin close.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import WebSocket from 'ws';
import { validateConfig } from '../../src/cri/config.js';
import { startSkiffd, type RunningSkiffd } from '../../src/cri/daemon.js';
import { createLogger } from '../../src/cri/log.js';
import { criClient, type CriClient } from '../helpers/cri-client.js';
import { crictlAsync, findCrictl } from '../helpers/crictl.js';
import { freePort } from '../helpers/registry.js';
import { HostSandboxes } from '../helpers/host-sandboxes.js';
import { buildDefaultImage, DEFAULT_IMAGE } from '../../src/image/default-image.js';
import { mkdirSync } from 'node:fs';
import { buildPtyExec, ProcessBackend } from '../helpers/streaming-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'skiffd-streaming-'));
const socket = join(dir, 'skiffd.sock');
let backend: ProcessBackend;
let skiffd: RunningSkiffd;
let cri: CriClient;
let echo: Server;
let echoPort: number;
/** The CRI IDs of the stand-ins: c1 for exec, a1 for attach, gone for an exec the backend fails, p1 their pod. */
let c1: string, a1: string, gone: string, p1: string;

const errorOf = async (p: Promise<unknown>) => p.then(() => assert.fail('expected an error'), (e: ServiceError) => e);
const crictl = (args: string[], input?: string) => crictlAsync(socket, args, input).done;

before(async () => {
  backend = new ProcessBackend(buildPtyExec(dir));
  const config = validateConfig({ root: join(dir, 'root'), state: join(dir, 'state'), socket }, 'test');
  mkdirSync(config.root, { recursive: true });
  await buildDefaultImage(config.root);
  skiffd = await startSkiffd({
    config, log: createLogger('info', openSync(join(dir, 'skiffd.log'), 'w')), streamingBackend: backend,
    sandboxes: (engine) => new HostSandboxes(engine),
  });
  cri = criClient(socket);
  const podConfig = { metadata: { name: 'p1', uid: 'u1', namespace: 'test', attempt: 0 }, log_directory: join(dir, 'logs'), linux: { security_context: { namespace_options: { network: 'NODE' as const } } } };
  p1 = (await cri.runtime.RunPodSandbox({ config: podConfig })).pod_sandbox_id!;
  const container = async (name: string) => {
    const config = { metadata: { name, attempt: 0 }, image: { image: DEFAULT_IMAGE }, command: ['sleep', '1000'], log_path: `${name}.log`, linux: { security_context: { namespace_options: { network: 'NODE' as const } } } };
    const id = (await cri.runtime.CreateContainer({ pod_sandbox_id: p1, config, sandbox_config: podConfig })).container_id!;
    await cri.runtime.StartContainer({ container_id: id });
    return id;
  };
  [c1, a1, gone] = [await container('c1'), await container('a1'), await container('gone')];
  backend.failing.add(gone);
  // The "pod's" server: echoes each line back upper-cased, and says goodbye when the client is done sending.
  echo = createServer((c) => {
    c.setEncoding('utf8').on('data', (d: string) => c.write(d.toUpperCase())).on('end', () => c.end('bye\n'));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});

after(async () => {
  if (p1) await cri.runtime.RemovePodSandbox({ pod_sandbox_id: p1 }).catch(() => {});
  cri?.close();
  await skiffd?.stop();
  echo?.close();
  for (const c of backend?.containers.values() ?? []) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A WebSocket to a streaming URL with `protocols`; resolves once open. */
async function ws(url: string, protocols: string[]): Promise<{ socket: WebSocket; messages: Buffer[]; closed: Promise<void> }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), protocols);
  const messages: Buffer[] = [];
  socket.on('message', (m: Buffer) => messages.push(Buffer.from(m)));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
  return { socket, messages, closed };
}

/** The bytes each channel got (binary messages, or base64 ones with the channel as a digit). */
function channelBytes(messages: Buffer[], base64 = false): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const m of messages) {
    const ch = base64 ? m[0] - 0x30 : m[0];
    const data = base64 ? Buffer.from(m.subarray(1).toString(), 'base64') : m.subarray(1);
    out.set(ch, Buffer.concat([out.get(ch) ?? Buffer.alloc(0), data]));
  }
  return out;
}

/** The text each channel got. */
function byChannel(messages: Buffer[]): Map<number, string> {
  return new Map([...channelBytes(messages)].map(([ch, b]) => [ch, b.toString()]));
}

describe('streaming: crictl over SPDY', () => {
  test('crictl exec: stdout, stderr and the exit code (v4 status on the error stream)', async () => {
    const ok = await crictl(['exec', c1, 'sh', '-c', 'echo out; echo err >&2']);
    assert.deepEqual([ok.code, ok.out, ok.err], [0, 'out\n', 'err\n']);
    const failed = await crictl(['exec', c1, 'sh', '-c', 'echo partial; exit 3']);
    assert.equal(failed.code, 1);
    assert.equal(failed.out, 'partial\n');
    assert.match(failed.err, /command terminated with exit code 3/);
  });

  test('crictl exec -i: stdin reaches the command, and its end closes the command\'s stdin', async () => {
    const r = await crictl(['exec', '-i', c1, 'sh', '-c', 'cat; echo done'], 'line one\nline two\n');
    assert.deepEqual([r.code, r.out], [0, 'line one\nline two\ndone\n'], r.err);
    // Much more than one SPDY frame, both ways.
    const big = 'x'.repeat(1_000_000);
    const wc = await crictl(['exec', '-i', c1, 'sh', '-c', 'wc -c; head -c 3000000 /dev/zero | tr "\\0" y'], big);
    assert.equal(wc.code, 0, wc.err);
    assert.equal(wc.out.slice(0, wc.out.indexOf('\n')).trim(), '1000000');
    assert.equal(wc.out.length - wc.out.indexOf('\n') - 1, 3_000_000);
  });

  test('crictl exec -it: the command gets a terminal of the client\'s size, and what is typed', async () => {
    // The size comes as the first resize, just after the command starts: it is asked for after a line is typed.
    const command = `stty cols 91 rows 27; exec ${findCrictl()} -r unix://${socket} exec -it ${c1} sh -c 'read l; stty size; echo "got:$l"; exit 3'`;
    const script = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    script.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    setTimeout(() => script.stdin.write('hello\r'), 1500);
    const code = await new Promise((r) => script.on('close', r));
    assert.match(out, /27 91\r\n/);
    assert.match(out, /got:hello/);
    assert.match(out, /command terminated with exit code 3/);
    assert.equal(code, 1);
  });

  test('crictl attach -i: joins the running process, and ends with it', async () => {
    const container = backend.startContainer(a1, ['sh', '-c', 'read l; echo "got:$l"; echo "to stderr" >&2']);
    const r = await crictl(['attach', '-i', a1], 'attached\n');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'got:attached\n');
    assert.equal(r.err, 'to stderr\n');
    assert.equal(container.exitCode, 0);
  });

  test('an exec that cannot run ends with the InternalError status, naming the container', async () => {
    const r = await crictl(['exec', gone, 'true']);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`Internal error occurred: error executing command in container ${gone}: container \\\\?"${gone}\\\\?" not found`));
  });

  test('crictl port-forward: each connection reaches the pod\'s port, both ways, half-closes included', async () => {
    const local = await freePort();
    let ready: () => void;
    const forwarding = new Promise<void>((r) => (ready = r));
    const pf = crictlAsync(socket, ['port-forward', 'pod1', `${local}:${echoPort}`], undefined, (out) => {
      if (out.includes('Forwarding from')) ready();
    });
    await forwarding;
    const talk = (text: string) => new Promise<string>((resolve, reject) => {
      const c = connect(local, '127.0.0.1');
      let got = '';
      c.setEncoding('utf8').on('data', (d: string) => {
        got += d;
        if (got === text.toUpperCase()) c.end();
      }).on('end', () => resolve(got)).on('error', reject);
      c.write(text);
    });
    assert.equal(await talk('hello pod\n'), 'HELLO POD\nbye\n');
    const [a, b] = await Promise.all([talk('first\n'), talk('second\n')]);
    assert.deepEqual([a, b], ['FIRST\nbye\n', 'SECOND\nbye\n']);
    pf.kill();
    await pf.done;
  });
});

describe('streaming: URLs and requests', () => {
  test('a URL works once; an unknown token is 404; a request without upgrade is 400', async () => {
    const { url } = await cri.runtime.Exec({ container_id: c1, cmd: ['true'], stdout: true });
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{11}$/);
    const plain = await fetch(url!, { method: 'POST' });
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /unable to upgrade/);
    assert.equal((await fetch(url!, { method: 'POST' })).status, 404, 'used once, even by a request that failed');
    const { url: pfUrl } = await cri.runtime.PortForward({ pod_sandbox_id: p1, port: [echoPort] });
    assert.equal((await fetch(pfUrl!.replace('/portforward/', '/exec/'))).status, 404, 'a token is for its own kind of session');
  });

  test('Exec, Attach and PortForward requests are checked before a URL is made', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => cri.runtime.Exec({ container_id: c1, cmd: ['sh'], tty: true, stdout: true, stderr: true }), 'tty and stderr cannot both be true: a terminal merges stderr into stdout'],
      [() => cri.runtime.Exec({ container_id: c1, cmd: ['sh'] }), 'one of stdin, stdout and stderr must be true'],
      [() => cri.runtime.Exec({ container_id: '', cmd: ['sh'], stdout: true }), 'container_id: no container ID'],
      [() => cri.runtime.Exec({ container_id: c1, cmd: [], stdout: true }), 'cmd: no command given'],
      [() => cri.runtime.Attach({ container_id: c1, stdin: false }), 'one of stdin, stdout and stderr must be true'],
      [() => cri.runtime.PortForward({ pod_sandbox_id: '' }), 'pod_sandbox_id: missing'],
      [() => cri.runtime.PortForward({ pod_sandbox_id: p1, port: [70000] }), 'port: 70000 is not a port (1 to 65535)'],
    ];
    for (const [call, message] of cases) {
      const e = await errorOf(call());
      assert.deepEqual([e.code, e.details], [status.INVALID_ARGUMENT, message]);
    }
  });
});

describe('streaming: WebSocket clients', () => {
  test('exec over v4.channel.k8s.io: the channels, an empty message when open, the exit status as JSON', async () => {
    const { url } = await cri.runtime.Exec({ container_id: c1, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'], stdout: true, stderr: true });
    const c = await ws(url!, ['v4.channel.k8s.io']);
    assert.equal(c.socket.protocol, 'v4.channel.k8s.io');
    await c.closed;
    assert.deepEqual([...c.messages[0]], [1], 'first an empty message on stdout');
    const ch = byChannel(c.messages);
    assert.equal(ch.get(1), 'out\n');
    assert.equal(ch.get(2), 'err\n');
    assert.deepEqual(JSON.parse(ch.get(3)!), {
      metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command ["sh","-c","echo out; echo err >&2; exit 7"], exit code 7',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    });
  });

  test('base64.channel.k8s.io (before v4): text messages, a digit for the channel, no status on success', async () => {
    const { url } = await cri.runtime.Exec({ container_id: c1, cmd: ['sh', '-c', 'printf "\\001\\377bin"'], stdout: true });
    const c = await ws(url!, ['base64.channel.k8s.io']);
    await c.closed;
    assert.equal(c.messages[0].toString(), '1', 'first an empty message on stdout');
    const ch = channelBytes(c.messages, true);
    assert.deepEqual([...ch.get(1)!], [1, 0xff, 0x62, 0x69, 0x6e]);
    assert.equal(ch.has(3), false, 'no status when the command succeeded');
  });

  test('v5.channel.k8s.io: stdin, its close signal (255, 0), and a terminal resize on channel 4', async () => {
    const { url } = await cri.runtime.Exec({ container_id: c1, cmd: ['sh', '-c', 'read go; stty size; cat'], stdin: true, stdout: true, tty: true });
    const c = await ws(url!, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    assert.equal(c.socket.protocol, 'v5.channel.k8s.io');
    c.socket.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 100, Height: 40 }))]));
    await new Promise((r) => setTimeout(r, 200));
    c.socket.send(Buffer.concat([Buffer.from([0]), Buffer.from('go\rtyped\r')]));
    await new Promise((r) => setTimeout(r, 200));
    // A terminal's end of input is ^D at the start of a line.
    c.socket.send(Buffer.from([0, 4]));
    c.socket.send(Buffer.from([255, 0]));
    await c.closed;
    const ch = byChannel(c.messages);
    assert.match(ch.get(1)!, /40 100\r\n/);
    assert.match(ch.get(1)!, /typed\r\n.*typed/s, 'echoed by the terminal, then by cat');
    assert.deepEqual(JSON.parse(ch.get(3)!), { metadata: {}, status: 'Success' });
  });

  test('v5 close of stdin without a terminal: the command reads to its end', async () => {
    const { url } = await cri.runtime.Exec({ container_id: c1, cmd: ['sh', '-c', 'wc -l'], stdin: true, stdout: true });
    const c = await ws(url!, ['v5.channel.k8s.io']);
    c.socket.send(Buffer.concat([Buffer.from([0]), Buffer.from('a\nb\nc\n')]));
    c.socket.send(Buffer.from([255, 0]));
    await c.closed;
    assert.equal(byChannel(c.messages).get(1)!.trim(), '3');
  });

  test('port-forward over WebSocket: the port first on both channels, then the data', async () => {
    const { url } = await cri.runtime.PortForward({ pod_sandbox_id: p1, port: [echoPort] });
    const c = await ws(url!, ['v4.channel.k8s.io']);
    c.socket.send(Buffer.concat([Buffer.from([0]), Buffer.from('over websocket\n')]));
    for (let i = 0; i < 50 && !(byChannel(c.messages).get(0) ?? '').includes('OVER'); i++) await new Promise((r) => setTimeout(r, 20));
    c.socket.close();
    await c.closed;
    const port = Buffer.alloc(2);
    port.writeUInt16LE(echoPort);
    assert.deepEqual(c.messages.slice(0, 2).map((m) => [...m]), [[0, ...port], [1, ...port]]);
    assert.equal(channelBytes(c.messages).get(0)!.subarray(2).toString(), 'OVER WEBSOCKET\n');
  });

  test('a subprotocol the server does not speak is refused', async () => {
    const { url } = await cri.runtime.Exec({ container_id: c1, cmd: ['true'], stdout: true });
    await assert.rejects(ws(url!, ['v9.channel.k8s.io']), /Unexpected server response: 400/);
  });
});
