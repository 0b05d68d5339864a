// The server side of a SPDY/3 connection as Kubernetes clients use it: the client opens every stream (SYN_STREAM
// with headers such as streamType), the server answers each with SYN_REPLY and then both send DATA until each side
// says FIN. Each stream is a Node Duplex. Like spdystream there is no flow control (WINDOW_UPDATE is neither sent
// nor awaited); instead, a stream whose reader falls behind pauses the socket, and writes wait for the socket.
// Everything written goes through one queue, so frames leave in the order their header blocks were compressed and
// no DATA overtakes its stream's SYN_REPLY (spdystream drops data for a stream it has no reply for).
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { CONTROL, controlFrame, dataFrame, FLAG_FIN, FrameReader, HeaderCodec, RST, words, type Frame } from './spdy-frames.js';

/** DATA frames carry at most this much; the client reads each frame whole into memory. */
const DATA_CHUNK = 32 * 1024;

export class SpdyStream extends Duplex {
  /** Set while the connection's socket is paused for this stream's reader. */
  holding = false;

  constructor(private readonly conn: SpdyConnection, readonly id: number, readonly headers: Record<string, string>) {
    super({ allowHalfOpen: true });
    // A client that goes away fails the writes in flight: the end of its session, not a fault of skiffd's.
    this.on('error', () => {});
  }

  override _read(): void {
    if (this.holding) {
      this.holding = false;
      this.conn.release();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.conn.sendData(this.id, chunk, false).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.conn.sendData(this.id, Buffer.alloc(0), true).then(() => done(), done);
  }

  /** Refuses or abandons the stream (RST_STREAM CANCEL), as spdystream's Reset. */
  reset(): void {
    this.conn.resetStream(this.id, RST.CANCEL);
    this.destroy();
  }
}

/**
 * `accept` sees each new stream before it is answered: returning false resets it instead (a stream whose headers
 * make no sense to the protocol on top).
 */
export class SpdyConnection {
  private readonly reader = new FrameReader();
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly incoming: Frame[] = [];
  private pumping = false;
  private output: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private held = 0;
  private goingAway = false;
  readonly closed: Promise<void>;

  constructor(private readonly socket: Socket, head: Buffer, private readonly accept: (stream: SpdyStream) => boolean) {
    this.closed = new Promise((resolve) => socket.once('close', () => {
      for (const s of this.streams.values()) s.destroy();
      this.streams.clear();
      this.codec.close();
      resolve();
    }));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.setNoDelay(true);
    if (head.length) this.receive(head);
  }

  private receive(chunk: Buffer): void {
    try {
      this.incoming.push(...this.reader.push(chunk));
    } catch {
      this.socket.destroy();
      return;
    }
    void this.pump();
  }

  /** Handles frames one at a time: a header block can only be decoded after the ones before it. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let frame = this.incoming.shift(); frame; frame = this.incoming.shift()) await this.handle(frame);
    } catch {
      // A broken header block or a protocol error: nothing on this connection can be trusted any more.
      this.socket.destroy();
    } finally {
      this.pumping = false;
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (frame.kind === 'data') return this.handleData(frame.streamId, frame.flags, frame.data);
    const p = frame.payload;
    switch (frame.type) {
      case CONTROL.SYN_STREAM: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.codec.decode(p.subarray(10));
        // Client streams have odd IDs that only grow (section 2.3.2); anything else is a protocol error.
        if (id % 2 === 0 || id <= this.lastStreamId || this.goingAway) return this.resetStream(id, RST.PROTOCOL_ERROR);
        this.lastStreamId = id;
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        stream.once('close', () => this.streams.delete(id));
        if (frame.flags & FLAG_FIN) stream.push(null);
        // The answer's place in the queue is taken before the protocol on top sees the stream, so nothing it
        // writes can go out first.
        let accepted = true;
        const answer = this.enqueue(async () => (accepted
          ? controlFrame(CONTROL.SYN_REPLY, 0, Buffer.concat([words(id), await this.codec.encode({})]))
          : controlFrame(CONTROL.RST_STREAM, 0, words(id, RST.REFUSED_STREAM))));
        accepted = this.accept(stream);
        if (!accepted) stream.destroy();
        await answer.catch(() => {});
        return;
      }
      case CONTROL.SYN_REPLY:
      case CONTROL.HEADERS:
        // Not expected from a client, but the block must be decoded to keep the zlib stream in step.
        await this.codec.decode(p.subarray(4));
        if (frame.flags & FLAG_FIN) this.handleData(p.readUInt32BE(0) & 0x7fffffff, FLAG_FIN, Buffer.alloc(0));
        return;
      case CONTROL.RST_STREAM:
        this.streams.get(p.readUInt32BE(0) & 0x7fffffff)?.destroy();
        return;
      case CONTROL.PING:
        // Odd IDs are the client's pings: answered with the same frame. Even ones would be answers to ours.
        if (p.readUInt32BE(0) % 2 === 1) await this.enqueue(() => controlFrame(CONTROL.PING, 0, p));
        return;
      case CONTROL.GOAWAY:
        this.goingAway = true;
        return;
      default:
        // SETTINGS and WINDOW_UPDATE: no flow control here (see the top of the file); unknown types are ignored
        // as section 2.2 asks.
        return;
    }
  }

  private handleData(id: number, flags: number, data: Buffer): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    if (data.length && !stream.push(data) && !stream.holding) {
      stream.holding = true;
      if (this.held++ === 0) this.socket.pause();
    }
    if (flags & FLAG_FIN) stream.push(null);
  }

  /** A stream's reader caught up: the socket goes on once no stream holds it. */
  release(): void {
    if (--this.held === 0) this.socket.resume();
  }

  /** Queues one frame after everything queued before it; resolves once the socket has taken it. */
  private enqueue(build: () => Buffer | Promise<Buffer>): Promise<void> {
    const sent = this.output.then(async () => {
      const frame = await build();
      if (this.socket.destroyed || !this.socket.writable) throw new Error('the client went away');
      await new Promise<void>((resolve, reject) => this.socket.write(frame, (err) => (err ? reject(err) : resolve())));
    });
    this.output = sent.catch(() => {});
    return sent;
  }

  sendData(id: number, data: Buffer, fin: boolean): Promise<void> {
    let last: Promise<void> = Promise.resolve();
    for (let at = 0; at < data.length; at += DATA_CHUNK) {
      const piece = data.subarray(at, at + DATA_CHUNK);
      last = this.enqueue(() => dataFrame(id, 0, piece));
    }
    if (fin) last = this.enqueue(() => dataFrame(id, FLAG_FIN, Buffer.alloc(0)));
    return last;
  }

  resetStream(id: number, code: number): void {
    this.enqueue(() => controlFrame(CONTROL.RST_STREAM, 0, words(id, code))).catch(() => {});
  }

  /** Says GOAWAY once everything queued is out, then closes; resolves when the socket is closed. */
  async close(): Promise<void> {
    this.goingAway = true;
    await this.enqueue(() => controlFrame(CONTROL.GOAWAY, 0, words(this.lastStreamId, 0))).catch(() => {});
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 5000);
    await this.closed;
    clearTimeout(timer);
  }
}
