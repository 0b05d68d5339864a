// The :authority rewrite in front of the gRPC server: grpc-go 1.51 clients (kubelet and crictl 1.26) name the
// socket's path, which Node's HTTP/2 server refuses. Driven here by Node's own HTTP/2 client, which sends such an
// authority too, over loopback TCP: refused without the rewrite; with it, every request of a connection arrives as
// "localhost" (the HPACK dynamic table stays in step), a header block split into CONTINUATION frames included.
import assert from 'node:assert/strict';
import { connect as http2Connect, createServer as createHttp2Server, type Http2Server } from 'node:http2';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { AuthorityFixingConnection, rewriteAuthority } from '../../src/cri/h2-authority.js';

let h2: Http2Server;
let plain: Server;
let fixed: Server;
const seen: string[] = [];

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));

before(() => {
  h2 = createHttp2Server();
  h2.on('stream', (stream, headers) => {
    seen.push(String(headers[':authority']));
    stream.respond({ ':status': 200 });
    stream.end(String(headers['x-big'] ?? '').length.toString());
  });
  plain = createServer((socket) => h2.emit('connection', socket));
  fixed = createServer((socket) => h2.emit('connection', new AuthorityFixingConnection(socket)));
});

after(() => {
  plain.close();
  fixed.close();
  h2.close();
});

function get(session: ReturnType<typeof http2Connect>, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/', ':authority': '/run/skiff/skiffd.sock', ...headers });
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body)).on('error', reject);
  });
}

test('without the rewrite, a path as :authority is refused (the reason for it)', async () => {
  const session = http2Connect(`http://127.0.0.1:${await listen(plain)}`);
  await assert.rejects(get(session, {}), /NGHTTP2_PROTOCOL_ERROR/);
  session.close();
});

test('with it, every request of a connection arrives with :authority localhost', async () => {
  const session = http2Connect(`http://127.0.0.1:${await listen(fixed)}`);
  seen.length = 0;
  for (let i = 0; i < 5; i++) assert.equal(await get(session, { 'x-n': String(i) }), '0');
  // Larger than one frame: the block comes as HEADERS and CONTINUATION frames.
  assert.equal(await get(session, { 'x-big': 'y'.repeat(40_000) }), '40000');
  assert.equal(await get(session, {}), '0');
  assert.deepEqual(seen, Array(7).fill('localhost'));
  session.close();
});

test('HPACK representations: indexed fields and other literals are kept byte for byte', () => {
  const lit = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
  const block = Buffer.concat([
    Buffer.from([0x82]), // indexed: :method GET
    Buffer.from([0x41]), lit('/a/b.sock'), // :authority with indexing, by name index 1
    Buffer.from([0x04]), lit('/path'), // :path without indexing
    Buffer.from([0x10]), lit(':authority'), lit('x/y'), // never indexed, literal name
    Buffer.from([0x3f, 0xe1, 0x1f]), // dynamic table size update to 4096
    Buffer.from([0x40]), lit('te'), lit('trailers'),
  ]);
  assert.deepEqual(rewriteAuthority(block), Buffer.concat([
    Buffer.from([0x82]), Buffer.from([0x41]), lit('localhost'), Buffer.from([0x04]), lit('/path'),
    Buffer.from([0x10]), lit(':authority'), lit('localhost'), Buffer.from([0x3f, 0xe1, 0x1f]), Buffer.from([0x40]), lit('te'), lit('trailers'),
  ]));
  assert.throws(() => rewriteAuthority(Buffer.from([0x41, 0x7f])), /HPACK/);
});
