// Numbered channels over one WebSocket, as Kubernetes' wsstream speaks them: every message starts with its channel
// number, a byte (channel.k8s.io and its versions) or an ASCII digit before base64 data in a text message
// (base64.channel.k8s.io). v5.channel.k8s.io adds one control message from the client: channel 255 followed by a
// channel number closes that channel (the client's end of stdin). Each channel is a Duplex; what a channel may not
// do (write to stdin, read from stdout) is simply never used.
import { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';

const CLOSE_CHANNEL = 255;

export class WebSocketChannel extends Duplex {
  constructor(private readonly mux: WebSocketChannels, readonly num: number) {
    super({ allowHalfOpen: true });
    // A client that goes away fails the writes in flight: the end of its session, not a fault of skiffd's.
    this.on('error', () => {});
  }

  override _read(): void {
    this.mux.release(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.mux.send(this.num, chunk).then(() => done(), done);
  }
}

export class WebSocketChannels {
  readonly channels: WebSocketChannel[];
  readonly closed: Promise<void>;
  private readonly holding = new Set<WebSocketChannel>();

  constructor(private readonly ws: WebSocket, count: number, private readonly base64: boolean, closeSignal: boolean) {
    this.channels = Array.from({ length: count }, (_, i) => new WebSocketChannel(this, i));
    this.closed = new Promise((resolve) => ws.once('close', () => {
      for (const c of this.channels) c.destroy();
      resolve();
    }));
    ws.on('message', (raw: RawData, isBinary: boolean) => {
      const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      if (data.length === 0) return;
      if (closeSignal && isBinary && data[0] === CLOSE_CHANNEL) {
        if (data.length > 1) this.channels[data[1]]?.push(null);
        return;
      }
      const num = this.base64 ? data[0] - 0x30 : data[0];
      const channel = this.channels[num];
      // A message for a channel that does not exist is dropped, as wsstream drops it.
      if (!channel || channel.readableEnded) return;
      const payload = this.base64 ? Buffer.from(data.subarray(1).toString('latin1'), 'base64') : data.subarray(1);
      if (payload.length && !channel.push(payload) && !this.holding.has(channel)) {
        this.holding.add(channel);
        ws.pause();
      }
    });
  }

  /** A channel's reader caught up: the WebSocket goes on once no channel holds it. */
  release(channel: WebSocketChannel): void {
    if (this.holding.delete(channel) && this.holding.size === 0) this.ws.resume();
  }

  send(num: number, data: Buffer): Promise<void> {
    const frame = this.base64 ? `${String.fromCharCode(0x30 + num)}${data.toString('base64')}` : Buffer.concat([Buffer.from([num]), data]);
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== this.ws.OPEN) return reject(new Error('the client went away'));
      this.ws.send(frame, { binary: !this.base64 }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    const timer = setTimeout(() => this.ws.terminate(), 5000);
    await this.closed;
    clearTimeout(timer);
  }
}
