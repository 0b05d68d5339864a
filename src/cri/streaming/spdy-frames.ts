// SPDY/3 framing (the SPDY Protocol, draft 3, section 2): what the Kubernetes clients' SPDY library (moby/spdystream,
// used by the kubelet, kubectl and crictl) puts on the wire after the HTTP upgrade to "SPDY/3.1". Every frame has an
// 8-byte header: a control frame starts with bit 1 set, the version (3) and its type; a data frame with its stream
// ID. Both carry flags (FIN: that side of the stream is done) and a 24-bit length.
//
// spdy-transport, the npm library for SPDY, cannot stand in for this: it serves HTTP over SPDY and refuses a
// SYN_STREAM without :method and :path (Kubernetes streams carry only their own headers), and it enforces SPDY/3.1
// flow control, which spdystream never answers with WINDOW_UPDATE frames, so a server would stall after 64 KiB.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

export const CONTROL = {
  SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9,
} as const;
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RST = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5 } as const;
const VERSION = 3;
const HEADER = 8;
/** A frame's length field is 24 bits. */
export const MAX_FRAME_PAYLOAD = 0xffffff;
/** Decompressed header blocks larger than this are refused: streams here carry a few short headers. */
const MAX_HEADER_BLOCK = 64 * 1024;

export type Frame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; payload: Buffer };

/** Cuts a byte stream into frames, keeping an incomplete one until the rest arrives. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < HEADER + length) break;
      const flags = this.pending[4];
      const body = this.pending.subarray(HEADER, HEADER + length);
      const first = this.pending.readUInt32BE(0);
      if (first & 0x80000000) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== VERSION) throw new Error(`SPDY version ${version} is not spoken here (3 is)`);
        frames.push({ kind: 'control', type: first & 0xffff, flags, payload: body });
      } else frames.push({ kind: 'data', streamId: first & 0x7fffffff, flags, data: body });
      this.pending = this.pending.subarray(HEADER + length);
    }
    return frames;
  }
}

function frameHeader(first: number, flags: number, length: number): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt32BE(first >>> 0, 0);
  h[4] = flags;
  h.writeUIntBE(length, 5, 3);
  return h;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(0x80000000 | (VERSION << 16) | type, flags, payload.length), payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  return Buffer.concat([frameHeader(streamId & 0x7fffffff, flags, data.length), data]);
}

/** A payload of 32-bit big-endian words (stream IDs with their reserved top bit clear, status codes, ping IDs). */
export function words(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/**
 * SPDY/3's zlib dictionary (section 2.6.10.1): header names and values, each with a 4-byte big-endian length in
 * front, then a run of status lines, dates and content types. A compressor and decompressor that do not share it
 * byte for byte cannot read each other (zlib checks its Adler-32).
 */
export const SPDY3_DICTIONARY: Buffer = (() => {
  const names = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
    'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
    'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date',
    'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
    'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate',
    'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade',
    'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version',
    'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
  ];
  const tail = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
    + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden'
    + '404 Not Found500 Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug '
    + 'Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,'
    + 'application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch'
    + 'charset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  return Buffer.concat([...names.flatMap((w) => [words(w.length), Buffer.from(w, 'latin1')]), Buffer.from(tail, 'latin1')]);
})();

/**
 * Header blocks: a 32-bit count of name/value pairs, each a 32-bit length and bytes (several values of one name
 * are joined by NUL), compressed by one zlib stream per direction that lives as long as the connection, each block
 * ending with a sync flush. So every block must be decoded, in order, even those whose headers are not wanted.
 */
export class HeaderCodec {
  private readonly inflate: Inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
  private readonly deflate: Deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });

  /** Names lowercased (spdystream writes them so); a repeated or multi-valued name keeps its first value. */
  async decode(block: Buffer): Promise<Record<string, string>> {
    const raw = await this.run(this.inflate, block);
    if (raw.length > MAX_HEADER_BLOCK) throw new Error(`a header block of ${raw.length} bytes is too large`);
    const headers: Record<string, string> = {};
    let at = 0;
    const take = () => {
      if (at + 4 > raw.length) throw new Error('a header block ends early');
      const n = raw.readUInt32BE(at);
      if (at + 4 + n > raw.length) throw new Error('a header block ends early');
      const s = raw.subarray(at + 4, at + 4 + n).toString('utf8');
      at += 4 + n;
      return s;
    };
    const count = raw.length >= 4 ? raw.readUInt32BE(0) : 0;
    at = 4;
    for (let i = 0; i < count; i++) {
      const name = take().toLowerCase();
      const value = take().split('\0')[0];
      headers[name] ??= value;
    }
    return headers;
  }

  async encode(headers: Record<string, string>): Promise<Buffer> {
    const parts = [words(Object.keys(headers).length)];
    for (const [k, v] of Object.entries(headers)) parts.push(words(Buffer.byteLength(k)), Buffer.from(k), words(Buffer.byteLength(v)), Buffer.from(v));
    return this.run(this.deflate, Buffer.concat(parts));
  }

  close(): void {
    this.inflate.destroy();
    this.deflate.destroy();
  }

  /** Feeds `input` to a zlib stream and collects what comes out up to a sync flush. Calls must not overlap. */
  private run(z: Inflate | Deflate, input: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const onData = (c: Buffer) => out.push(c);
      const onError = (err: Error) => {
        z.off('data', onData);
        reject(new Error(`SPDY header compression: ${err.message}`));
      };
      z.on('data', onData);
      z.once('error', onError);
      z.write(input);
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off('data', onData);
        z.off('error', onError);
        resolve(Buffer.concat(out));
      });
    });
  }
}
