// What every registry request shares: retries with exponential backoff for the failures that pass (the network,
// 429, 5xx), and a no-progress timeout that aborts a request when neither headers nor body bytes arrive for a while
// (a stalled connection, not a slow one: a large layer on a slow link keeps going as long as bytes flow).
import { SkiffError } from '../../common/errors.js';

export interface TransferSettings {
  retries: number;
  noProgressTimeoutMs: number;
  /** Told before each retry: what failed and how long until the next attempt. */
  onRetry?: (message: string) => void;
}

/** An error worth another attempt. */
export class TransientError extends SkiffError {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message, 'EAGAIN');
  }
}

export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Runs `fn`, again after a growing pause (200 ms doubling, at most 10 s) when it throws a TransientError. */
export async function withRetries<T>(settings: TransferSettings, what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof TransientError) || attempt >= settings.retries) throw err;
      const delay = err.retryAfterMs ?? Math.min(10_000, 200 * 2 ** attempt);
      settings.onRetry?.(`${what}: ${err.message}; retrying in ${(delay / 1000).toFixed(1)}s (${attempt + 1}/${settings.retries})`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * A watchdog for one request: `signal` aborts when `touch()` has not been called for `ms`. The abort reason names
 * the stall, so whatever reads the body fails with it.
 */
export class ProgressWatchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private last = Date.now();

  constructor(private readonly ms: number, private readonly what: string) {
    this.arm(ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Progress: only a time is noted (a body arrives in thousands of chunks); the timer checks it when it fires. */
  touch(): void {
    this.last = Date.now();
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => {
      const quiet = Date.now() - this.last;
      if (quiet < this.ms) return this.arm(this.ms - quiet);
      this.controller.abort(new TransientError(`${this.what}: no progress for ${this.ms / 1000}s`));
    }, delay);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The body's chunks, each one resetting the watchdog; stopped when the body ends or fails. */
  async *guard(body: ReadableStream<Uint8Array> | null): AsyncIterable<Uint8Array> {
    if (!body) return;
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        this.touch();
        yield chunk;
      }
    } catch (err) {
      if (this.signal.aborted) throw this.signal.reason as Error;
      throw new TransientError(`${this.what}: the connection failed: ${causeOf(err)}`);
    } finally {
      this.stop();
    }
  }
}

/** The message of what really failed under fetch's "fetch failed". */
export function causeOf(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  return e.cause?.message ?? e.message ?? String(err);
}

/** Retry-After in milliseconds (seconds form only), bounded to a minute. */
export function retryAfterMs(res: Response): number | undefined {
  const v = Number(res.headers.get('retry-after'));
  return Number.isFinite(v) && v > 0 ? Math.min(v, 60) * 1000 : undefined;
}
