// The remote-command versions crictl 1.26 does not pick by itself (it offers v4 first), spoken by a small SPDY
// client built from our own framing against the streaming server, on loopback, with a backend that only writes:
// v2 and v3 carry a failure's message as text and nothing on success, v3 adds the resize stream, a version the
// server does not speak is refused with the ones it does, and a stream of a type the session did not ask for is
// reset.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import type { StreamingBackend, TerminalSize } from '../../src/cri/streaming/backend.js';
import { StreamingServer } from '../../src/cri/streaming/server.js';
import { CONTROL, controlFrame, FLAG_FIN, FrameReader, HeaderCodec, words } from '../../src/cri/streaming/spdy-frames.js';

const sizes: TerminalSize[] = [];
const backend: StreamingBackend = {
  async exec(_id, cmd, session) {
    session.stdout?.write(`ran ${cmd.join(' ')}\n`);
    if (session.resizes) for await (const s of session.resizes) sizes.push(s);
    return Number(cmd[cmd.length - 1]);
  },
  attach: async () => {},
  portForward: async () => {},
};
let server: StreamingServer;

before(async () => {
  server = await StreamingServer.start('127.0.0.1', 0, backend, pino({ level: 'silent' }));
});
after(() => server.close());

interface Session {
  head: string;
  /** Data each stream got, by stream type. */
  data: Record<string, string>;
  resets: number[];
}

/** Connects with `protocol`, opens one stream per type (writing `send` on those named there), reads to the end. */
async function spdySession(url: string, protocol: string, types: string[], send: Record<string, string> = {}): Promise<Session> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  const codec = new HeaderCodec();
  const reader = new FrameReader();
  const session: Session = { head: '', data: {}, resets: [] };
  const byId = new Map<number, string>();
  let buffered = Buffer.alloc(0);
  let upgraded = false;
  socket.write(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', async (chunk: Buffer) => {
    if (!upgraded) {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      session.head = buffered.subarray(0, end).toString();
      if (!session.head.startsWith('HTTP/1.1 101')) return socket.end();
      upgraded = true;
      chunk = buffered.subarray(end + 4);
      let id = 1;
      for (const type of types) {
        byId.set(id, type);
        const block = await codec.encode({ streamtype: type });
        socket.write(controlFrame(CONTROL.SYN_STREAM, 0, Buffer.concat([words(id, 0), Buffer.from([0, 0]), block])));
        if (send[type] !== undefined) {
          const data = Buffer.from(send[type]);
          socket.write(Buffer.concat([words(id), Buffer.from([FLAG_FIN, 0, 0, data.length]), data]));
        }
        id += 2;
      }
    }
    for (const f of reader.push(chunk)) {
      if (f.kind === 'data' && f.data.length) {
        const type = byId.get(f.streamId)!;
        session.data[type] = (session.data[type] ?? '') + f.data.toString();
      } else if (f.kind === 'control' && f.type === CONTROL.RST_STREAM) session.resets.push(f.payload.readUInt32BE(0));
    }
  });
  await done;
  codec.close();
  return session;
}

const execUrl = (cmd: string[], tty = false) => server.execUrl({ container_id: 'c1', cmd, stdin: false, stdout: true, stderr: false, tty });

test('v2: the output, and a failure as text on the error stream', async () => {
  const failed = await spdySession(execUrl(['cmd', '4']), 'v2.channel.k8s.io', ['error', 'stdout']);
  assert.match(failed.head, /^HTTP\/1.1 101 Switching Protocols\r\n.*X-Stream-Protocol-Version: v2\.channel\.k8s\.io/s);
  assert.deepEqual(failed.data, { stdout: 'ran cmd 4\n', error: 'command terminated with non-zero exit code: error executing command ["cmd","4"], exit code 4' });
  const ok = await spdySession(execUrl(['cmd', '0']), 'v2.channel.k8s.io', ['error', 'stdout']);
  assert.deepEqual(ok.data, { stdout: 'ran cmd 0\n' }, 'nothing on the error stream on success');
});

test('v3 with a terminal: the session waits for the resize stream, and its sizes reach the backend', async () => {
  sizes.length = 0;
  const s = await spdySession(execUrl(['cmd', '0'], true), 'v3.channel.k8s.io', ['error', 'stdout', 'resize'], { resize: '{"Width":120,"Height":50}\n{"Width":"bad"}\n' });
  assert.deepEqual(s.data, { stdout: 'ran cmd 0\n' });
  assert.deepEqual(sizes, [{ width: 120, height: 50 }]);
});

test('v4 is JSON on the error stream; the first version the client names that the server speaks wins', async () => {
  const s = await spdySession(execUrl(['cmd', '0']), 'v9.channel.k8s.io, v4.channel.k8s.io, v2.channel.k8s.io', ['error', 'stdout']);
  assert.match(s.head, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
  assert.deepEqual(JSON.parse(s.data.error), { metadata: {}, status: 'Success' });
});

test('a version the server does not speak: 403, naming those it does', async () => {
  const s = await spdySession(execUrl(['cmd', '0']), 'v9.channel.k8s.io', []);
  assert.match(s.head, /^HTTP\/1.1 403 Forbidden\r\n/);
  assert.match(s.head, /X-Accepted-Stream-Protocol-Versions: v4\.channel\.k8s\.io, v3\.channel\.k8s\.io, v2\.channel\.k8s\.io, channel\.k8s\.io/);
});

test('a stream the session did not ask for is reset; the session still runs', async () => {
  const s = await spdySession(execUrl(['cmd', '0']), 'v4.channel.k8s.io', ['stdin', 'error', 'stdout']);
  assert.deepEqual(s.resets, [1]);
  assert.equal(s.data.stdout, 'ran cmd 0\n');
});
