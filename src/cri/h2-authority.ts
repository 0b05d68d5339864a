// The kubelet 1.26 and crictl 1.26 (grpc-go 1.51, dialing a bare socket path) send the socket's path as the HTTP/2
// :authority of every call, e.g. "/run/skiff/skiffd.sock". RFC 3986 allows no "/" in an authority, and nghttp2,
// under Node's HTTP/2 server, resets such a stream with PROTOCOL_ERROR before gRPC sees it (Go's server lets it
// pass, so containerd never noticed; Kubernetes 1.27 dials with "localhost"). An authority means nothing on a unix
// socket, so what the client sends is read here first and every :authority it names becomes "localhost".
//
// Only header blocks are touched (HEADERS and CONTINUATION frames, RFC 9113 section 6), and in them only the
// :authority field's value (RFC 7541 section 6). A field stored in the HPACK dynamic table keeps its place there,
// and "localhost" is shorter than any path, so the server's table never drops an entry before the client's does:
// every index the client sends later still names the same field.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const FRAME_HEADER = 9;
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
/** The smallest SETTINGS_MAX_FRAME_SIZE a peer may have: a rewritten block is cut to fit it. */
const MAX_FRAME = 16384;
/** Index of ":authority" in HPACK's static table (RFC 7541 appendix A). */
const AUTHORITY_INDEX = 1;
const LOCALHOST = Buffer.from('localhost');

/** An HPACK integer with an N-bit prefix at `at` (RFC 7541 section 5.1): its value and where it ends. */
function readInt(b: Buffer, at: number, prefix: number): [number, number] {
  const max = (1 << prefix) - 1;
  let value = b[at] & max;
  let i = at + 1;
  if (value < max) return [value, i];
  for (let shift = 0; ; shift += 7) {
    if (i >= b.length || shift > 28) throw new Error('HPACK: integer out of bounds');
    const byte = b[i++];
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [value, i];
  }
}

/** A string literal at `at` (section 5.2): where it ends, and its bytes unless Huffman-coded. */
function readString(b: Buffer, at: number): { end: number; raw?: Buffer } {
  const huffman = (b[at] & 0x80) !== 0;
  const [length, start] = readInt(b, at, 7);
  if (start + length > b.length) throw new Error('HPACK: string out of bounds');
  return { end: start + length, raw: huffman ? undefined : b.subarray(start, start + length) };
}

/** A header block with every :authority value replaced by "localhost". */
export function rewriteAuthority(block: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < block.length) {
    const b = block[i];
    // Indexed field (1xxxxxxx), size update (001xxxxx), or a literal: with indexing (01xxxxxx, 6-bit name index)
    // or without / never indexed (0000xxxx, 0001xxxx, 4-bit name index).
    if (b & 0x80 || (b & 0xe0) === 0x20) {
      const [, end] = readInt(block, i, b & 0x80 ? 7 : 5);
      out.push(block.subarray(i, end));
      i = end;
      continue;
    }
    const [nameIndex, afterIndex] = readInt(block, i, (b & 0xc0) === 0x40 ? 6 : 4);
    let nameEnd = afterIndex;
    let isAuthority = nameIndex === AUTHORITY_INDEX;
    if (nameIndex === 0) {
      const name = readString(block, afterIndex);
      nameEnd = name.end;
      isAuthority = name.raw?.toString('latin1') === ':authority';
    }
    const value = readString(block, nameEnd);
    out.push(block.subarray(i, nameEnd));
    out.push(isAuthority ? Buffer.concat([Buffer.from([LOCALHOST.length]), LOCALHOST]) : block.subarray(nameEnd, value.end));
    i = value.end;
  }
  return Buffer.concat(out);
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(FRAME_HEADER);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/** The client-to-server byte stream of one connection, with its header blocks rewritten. */
export class AuthorityRewriter {
  private pending: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  /** A header block still waiting for its CONTINUATION frames. */
  private open?: { streamId: number; flags: number; priority: Buffer; fragments: Buffer[] };

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      if (this.pending.length < PREFACE.length) return out;
      out.push(this.pending.subarray(0, PREFACE.length));
      this.pending = this.pending.subarray(PREFACE.length);
      this.prefaceSeen = true;
    }
    while (this.pending.length >= FRAME_HEADER) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < FRAME_HEADER + length) break;
      const type = this.pending[3];
      const flags = this.pending[4];
      const streamId = this.pending.readUInt32BE(5) & 0x7fffffff;
      const whole = this.pending.subarray(0, FRAME_HEADER + length);
      const payload = whole.subarray(FRAME_HEADER);
      this.pending = this.pending.subarray(FRAME_HEADER + length);
      if (type === HEADERS) {
        let body = payload;
        if (flags & PADDED) body = body.subarray(1, body.length - payload[0]);
        const priority = flags & PRIORITY ? body.subarray(0, 5) : Buffer.alloc(0);
        this.open = { streamId, flags: flags & ~(PADDED | END_HEADERS), priority, fragments: [body.subarray(priority.length)] };
      } else if (type === CONTINUATION && this.open) {
        this.open.fragments.push(payload);
      } else {
        out.push(whole);
        continue;
      }
      if (flags & END_HEADERS) out.push(...this.finish());
    }
    return out;
  }

  /** The completed block, rewritten, as one HEADERS frame and as many CONTINUATION frames as its size needs. */
  private finish(): Buffer[] {
    const { streamId, flags, priority, fragments } = this.open!;
    this.open = undefined;
    const block = Buffer.concat([priority, rewriteAuthority(Buffer.concat(fragments))]);
    const frames: Buffer[] = [];
    for (let at = 0; at < block.length || at === 0; at += MAX_FRAME) {
      const last = at + MAX_FRAME >= block.length;
      const piece = block.subarray(at, at + MAX_FRAME);
      frames.push(at === 0 ? frame(HEADERS, flags | (last ? END_HEADERS : 0), streamId, piece) : frame(CONTINUATION, last ? END_HEADERS : 0, streamId, piece));
      if (last) break;
    }
    return frames;
  }
}

/** A unix socket connection as the HTTP/2 server should see it: reads rewritten, writes passed through. */
export class AuthorityFixingConnection extends Duplex {
  private readonly rewriter = new AuthorityRewriter();

  constructor(private readonly socket: Socket) {
    super();
    socket.on('data', (chunk: Buffer) => {
      let parts: Buffer[];
      try {
        parts = this.rewriter.push(chunk);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      for (const p of parts) if (!this.push(p)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.socket.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }
}
