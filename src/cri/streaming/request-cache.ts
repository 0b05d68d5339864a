// Single-use, expiring tokens for streaming requests, as the kubelet's streaming package hands them out: the RPC
// stores the request and returns a URL with the token in its path; the first connection to that URL takes the
// request, and a token not used within a minute is gone. At most 1000 wait at once (a client that asks and never
// connects cannot fill memory).
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { CriError } from '../grpc-error.js';

export const TOKEN_TTL_MS = 60_000;
export const MAX_IN_FLIGHT = 1000;

export class RequestCache<T> {
  private readonly entries = new Map<string, { request: T; expires: number }>();

  constructor(private readonly ttlMs = TOKEN_TTL_MS, private readonly now = () => Date.now()) {}

  insert(request: T): string {
    this.evictExpired();
    if (this.entries.size >= MAX_IN_FLIGHT) throw new CriError(status.RESOURCE_EXHAUSTED, `maximum number of in-flight streaming requests (${MAX_IN_FLIGHT}) exceeded`);
    // 8 random bytes, URL-safe: the kubelet's token size. The token is the only secret guarding the session.
    let token: string;
    do token = randomBytes(8).toString('base64url');
    while (this.entries.has(token));
    this.entries.set(token, { request, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request stored under `token`, removed; undefined when there is none or it expired. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    this.entries.delete(token);
    return entry && entry.expires > this.now() ? entry.request : undefined;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expires <= now) this.entries.delete(token);
  }
}
