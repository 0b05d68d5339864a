// SPDY/3 framing as moby/spdystream speaks it: the header compression dictionary byte for byte (zlib refuses a
// block compressed with any other), header blocks through one zlib stream per direction, and frames cut from a
// byte stream that arrives in arbitrary pieces.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { CONTROL, controlFrame, dataFrame, FLAG_FIN, FrameReader, HeaderCodec, SPDY3_DICTIONARY, words } from '../../src/cri/streaming/spdy-frames.js';

test("the dictionary is SPDY/3's (section 2.6.10.1), 1423 bytes", () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
});

test('header blocks: each decoded in order by the peer, names lowercased, the first of several values', async () => {
  const client = new HeaderCodec();
  const server = new HeaderCodec();
  for (const headers of [{ streamtype: 'error' }, { streamtype: 'stdout', port: '8080' }, { streamtype: 'error' }] as Record<string, string>[]) {
    assert.deepEqual(await server.decode(await client.encode(headers)), headers);
  }
  assert.deepEqual(await server.decode(await client.encode({ StreamType: 'data\0ignored', requestID: '7' })), { streamtype: 'data', requestid: '7' });
  await assert.rejects(new HeaderCodec().decode(Buffer.from('not zlib')), /SPDY header compression/);
  client.close();
  server.close();
});

test('frames are cut from a stream whatever its pieces', () => {
  const bytes = Buffer.concat([
    controlFrame(CONTROL.PING, 0, words(1)),
    dataFrame(3, 0, Buffer.from('hello')),
    dataFrame(3, FLAG_FIN, Buffer.alloc(0)),
    controlFrame(CONTROL.RST_STREAM, 0, words(5, 5)),
  ]);
  for (const size of [1, 3, 7, bytes.length]) {
    const reader = new FrameReader();
    const frames = [];
    for (let at = 0; at < bytes.length; at += size) frames.push(...reader.push(bytes.subarray(at, at + size)));
    assert.deepEqual(frames.map((f) => (f.kind === 'data' ? `data ${f.streamId} ${f.flags} ${f.data}` : `control ${f.type} ${[...f.payload].join(',')}`)), [
      'control 6 0,0,0,1', 'data 3 0 hello', 'data 3 1 ', 'control 3 0,0,0,5,0,0,0,5',
    ], `pieces of ${size}`);
  }
  assert.throws(() => new FrameReader().push(Buffer.from([0x80, 0x02, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])), /SPDY version 2 is not spoken here/);
});
