// A registry client (distribution spec v2) for one repository: ping, manifests by tag or digest (GET/HEAD with
// the OCI and Docker Accept list), blobs (redirects followed, Range to resume), and push (blob HEAD, cross-repo
// mount, POST + chunked PATCH + PUT ?digest, manifest PUT). Pulls try the configured mirrors first, then the
// registry; each endpoint is spoken to over HTTPS (with its own TLS settings, tls.ts), or plain HTTP where that is
// allowed and the server does not speak TLS. A certificate that is not trusted is an error that says what to
// configure, never a reason to try plain HTTP.
import { createHash } from 'node:crypto';
import { SkiffError } from '../../common/errors.js';
import type { BlobSource, Descriptor } from '../content-store.js';
import { MANIFEST_MEDIA_TYPES } from '../media-types.js';
import type { ImageReference } from '../reference.js';
import { Authorizer, describeCredentials } from './auth.js';
import type { Credentials } from './credential-types.js';
import { DEFAULT_CONFIG, endpointsFor, type Endpoint, type RegistriesConfig } from './hosts.js';
import { fetcherFor, tlsFailure, type FetchFn } from './tls.js';
import { causeOf, isTransientStatus, ProgressWatchdog, retryAfterMs, TransientError, withRetries, type TransferSettings } from './transfer.js';

/** containerd's limit: a manifest larger than this is refused rather than read into memory. */
const MANIFEST_MAX = 4 * 1024 * 1024;
/** Blobs up to this size are uploaded in one PUT; larger ones in PATCH chunks of this size. */
export const PUSH_CHUNK = 16 * 1024 * 1024;

export interface ClientOptions {
  purpose: 'pull' | 'push';
  config?: RegistriesConfig;
  credentials?: Credentials;
  /** Why there are no credentials although there may be some (a credential helper not installed): told with a 401. */
  credentialsMissing?: string;
  onRetry?: (message: string) => void;
}

export interface Manifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

interface Sent {
  res: Response;
  watchdog: ProgressWatchdog;
  origin: string;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export class RegistryClient {
  private readonly endpoints: Endpoint[];
  private readonly settings: TransferSettings;
  private readonly authorizers = new Map<string, Authorizer>();
  private readonly fetchers = new Map<string, Promise<FetchFn>>();
  /** The origin (scheme) that answered, per endpoint host, so TLS is not tried again on every request. */
  private readonly origins = new Map<string, string>();
  private readonly scope: string;
  /** registries.json, named where a TLS error says what to set. */
  private readonly configFile: string;

  constructor(readonly ref: ImageReference, private readonly opts: ClientOptions) {
    const config = opts.config ?? DEFAULT_CONFIG;
    this.configFile = config.file ?? '<root>/registries.json';
    this.endpoints = endpointsFor(config, ref.domain, opts.purpose);
    this.settings = { retries: config.retries, noProgressTimeoutMs: config.noProgressTimeoutSeconds * 1000, onRetry: opts.onRetry };
    this.scope = `repository:${ref.path}:${opts.purpose === 'push' ? 'pull,push' : 'pull'}`;
  }

  private get name(): string {
    return `${this.ref.domain}/${this.ref.path}`;
  }

  private authorizer(ep: Endpoint): Authorizer {
    let a = this.authorizers.get(ep.host);
    if (!a) {
      // Credentials belong to the registry; a mirror is asked anonymously unless it has its own login.
      a = new Authorizer(ep.host, ep.mirror ? undefined : this.opts.credentials, (url, init) => this.tokenFetch(ep, url, init));
      this.authorizers.set(ep.host, a);
    }
    return a;
  }

  /** The endpoint's fetch: its TLS settings apply to everything it is asked for (token realm, redirects), as docker's transport. */
  private fetcher(ep: Endpoint): Promise<FetchFn> {
    let f = this.fetchers.get(ep.host);
    if (!f) {
      f = fetcherFor(ep.tls);
      this.fetchers.set(ep.host, f);
    }
    return f;
  }

  private async tokenFetch(ep: Endpoint, url: string, init: { method?: string; headers: Record<string, string>; body?: string }): Promise<Response> {
    const watchdog = new ProgressWatchdog(this.settings.noProgressTimeoutMs, `${ep.host}: token request`);
    try {
      return await (await this.fetcher(ep))(url, { ...init, signal: watchdog.signal });
    } catch (err) {
      const tls = tlsFailure(err);
      if (tls) throw new SkiffError(`${ep.host}: token server ${new URL(url).origin}: ${this.tlsMessage(ep, url, tls.kind, tls.detail)}`, 'EPROTO');
      throw new SkiffError(`${ep.host}: cannot reach the token server ${new URL(url).origin}: ${causeOf(err)}`, 'ECONNREFUSED');
    } finally {
      watchdog.stop();
    }
  }

  /** A TLS failure in one line: the host, OpenSSL's words, and what to set where. */
  private tlsMessage(ep: Endpoint, url: string, kind: 'certificate' | 'handshake', detail: string): string {
    const server = new URL(url).host;
    if (kind === 'handshake') return `TLS handshake with ${server} failed: ${detail}`;
    const entry = `registries["${ep.host}"]`;
    return `the TLS certificate of ${server} is not trusted: ${detail}; trust its CA with ${entry}.ca (a PEM file) in ${this.configFile}, or skip verification with ${entry}.insecure: true`;
  }

  /**
   * One request to one endpoint, authenticating as its challenge asks. `path` is under /v2/ or an absolute URL
   * (an upload location). Connection failures try the endpoint's next origin (https, then http if allowed); TLS
   * failures from a server that speaks TLS do not.
   */
  private async send(ep: Endpoint, path: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array }, scope = this.scope): Promise<Sent> {
    const auth = this.authorizer(ep);
    const fetchFn = await this.fetcher(ep);
    const known = this.origins.get(ep.host);
    const origins = known ? [known] : ep.origins;
    let lastError: unknown;
    for (const origin of origins) {
      const url = /^https?:\/\//.test(path) ? path : `${origin}${path}`;
      for (let round = 0; round < 3; round++) {
        const headers = { ...init.headers };
        const authorization = auth.header(scope);
        if (authorization) headers.Authorization = authorization;
        const watchdog = new ProgressWatchdog(this.settings.noProgressTimeoutMs, `${ep.host}: ${init.method ?? 'GET'} ${new URL(url).pathname}`);
        let res: Response;
        try {
          res = await fetchFn(url, { method: init.method ?? 'GET', headers, body: init.body as BodyInit | undefined, signal: watchdog.signal, redirect: 'follow' });
        } catch (err) {
          watchdog.stop();
          if (watchdog.signal.aborted) throw watchdog.signal.reason as Error;
          const tls = tlsFailure(err);
          if (tls) throw new SkiffError(`${ep.host}: ${this.tlsMessage(ep, url, tls.kind, tls.detail)}`, 'EPROTO');
          lastError = err;
          break;
        }
        this.origins.set(ep.host, origin);
        if (res.status === 401) {
          await res.body?.cancel();
          watchdog.stop();
          // A new answer to the challenge is tried (twice at most: Basic, or a token for a wider scope).
          if (round < 2 && (await auth.answer(res, scope))) continue;
          if (this.opts.credentials && !ep.mirror) throw new SkiffError(`${ep.host}: the registry refused ${describeCredentials(this.opts.credentials)}: HTTP 401`, 'EACCES');
          const missing = this.opts.credentialsMissing && !ep.mirror ? ` (no credentials were read: ${this.opts.credentialsMissing})` : '';
          throw new SkiffError(`${ep.host}: the registry requires authentication (skiff login): HTTP 401${missing}`, 'EACCES');
        }
        return { res, watchdog, origin };
      }
    }
    // A refused connection or an unknown host is an answer, not a hiccup: said at once rather than retried.
    const message = `${ep.host}: cannot reach the registry: ${causeOf(lastError)}`;
    const code = (lastError as { cause?: { code?: string } }).cause?.code;
    if (code && ['ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'].includes(code)) throw new TransientError(message);
    throw new SkiffError(message, 'ECONNREFUSED');
  }

  /** The registry's error body, if it has one, as "CODE: message; ...". */
  private async fail(res: Response, ep: Endpoint, what: string): Promise<never> {
    let detail = '';
    try {
      const body = (await res.json()) as { errors?: { code: string; message: string }[] };
      detail = body.errors?.map((e) => `${e.code}: ${e.message}`).join('; ') ?? '';
    } catch {
      // no JSON error body
    }
    const message = `${ep.mirror ? `${ep.host} (mirror of ${this.ref.domain})` : this.ref.domain}/${this.ref.path}: ${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`;
    if (isTransientStatus(res.status)) throw new TransientError(message, retryAfterMs(res));
    throw new SkiffError(message, res.status === 404 ? 'ENOENT' : res.status === 401 || res.status === 403 ? 'EACCES' : 'EIO');
  }

  /** Tries each endpoint in order (with retries); the last one's error is the one reported. */
  private async firstEndpoint<T>(what: string, fn: (ep: Endpoint) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (const ep of this.endpoints) {
      try {
        return await withRetries(this.settings, `${ep.host}: ${what}`, () => fn(ep));
      } catch (err) {
        lastError = err;
        if (!ep.mirror) break;
        this.settings.onRetry?.(`${ep.host} (mirror): ${(err as Error).message}; trying the next`);
      }
    }
    throw lastError instanceof TransientError ? new SkiffError(lastError.message, 'EIO') : lastError;
  }

  /** GET /v2/: the API version check, authenticating as the registry asks (what `login` verifies). */
  async ping(): Promise<void> {
    const ep = this.endpoints[this.endpoints.length - 1];
    await withRetries(this.settings, `${ep.host}: ping`, async () => {
      const { res, watchdog } = await this.send(ep, '/v2/', {}, '');
      watchdog.stop();
      if (!res.ok) await this.fail(res, ep, 'GET /v2/');
      await res.body?.cancel();
    }).catch((err: unknown) => {
      throw err instanceof TransientError ? new SkiffError(err.message, 'EIO') : err;
    });
  }

  /** The manifest (or index) for a tag or digest: its bytes, media type and digest (checked against a digest reference). */
  async manifest(reference: string): Promise<Manifest> {
    return this.firstEndpoint(`manifest ${reference}`, async (ep) => {
      const { res, watchdog } = await this.send(ep, `/v2/${this.ref.path}/manifests/${reference}`, { headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') } });
      try {
        if (!res.ok) await this.fail(res, ep, `manifest ${reference}`);
        if (Number(res.headers.get('content-length') ?? 0) > MANIFEST_MAX) throw new SkiffError(`${this.name}: manifest ${reference} is larger than ${MANIFEST_MAX} bytes`, 'EFBIG');
        const chunks: Uint8Array[] = [];
        let n = 0;
        for await (const c of watchdog.guard(res.body)) {
          n += c.length;
          if (n > MANIFEST_MAX) throw new SkiffError(`${this.name}: manifest ${reference} is larger than ${MANIFEST_MAX} bytes`, 'EFBIG');
          chunks.push(c);
        }
        const bytes = Buffer.concat(chunks);
        const digest = sha256(bytes);
        const expected = reference.startsWith('sha256:') ? reference : res.headers.get('docker-content-digest');
        if (expected && expected !== digest) throw new SkiffError(`${this.name}: manifest ${reference} arrived with digest ${digest}, not ${expected}`, 'EINVAL');
        let mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
        if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
          try {
            mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? mediaType;
          } catch {
            throw new SkiffError(`${this.name}: manifest ${reference} is not JSON`, 'EINVAL');
          }
        }
        return { bytes, mediaType, digest };
      } finally {
        watchdog.stop();
      }
    });
  }

  /** HEAD of a manifest: its descriptor, without the body (what `skiff push` and resolvers use). */
  async headManifest(reference: string): Promise<Descriptor | undefined> {
    return this.firstEndpoint(`manifest ${reference}`, async (ep) => {
      const { res, watchdog } = await this.send(ep, `/v2/${this.ref.path}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') } });
      watchdog.stop();
      if (res.status === 404) return undefined;
      if (!res.ok) await this.fail(res, ep, `manifest ${reference}`);
      const digest = res.headers.get('docker-content-digest') ?? (reference.startsWith('sha256:') ? reference : '');
      return { mediaType: (res.headers.get('content-type') ?? '').split(';')[0], digest, size: Number(res.headers.get('content-length') ?? 0) };
    });
  }

  /**
   * A source of the blob's bytes from an offset, for ContentStore.ingestFrom: GET with Range (a 200 instead of a
   * 206 means the registry or its storage redirect ignored the Range, and the ingest starts over).
   */
  blobSource(desc: Descriptor): BlobSource {
    return (offset) => this.firstEndpoint(`blob ${desc.digest}`, async (ep) => {
      const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
      const { res, watchdog } = await this.send(ep, `/v2/${this.ref.path}/blobs/${desc.digest}`, { headers });
      if (!res.ok) {
        watchdog.stop();
        await this.fail(res, ep, `blob ${desc.digest}`);
      }
      let start = 0;
      if (res.status === 206) {
        const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        start = m ? Number(m[1]) : offset;
      }
      return { start, body: watchdog.guard(res.body) };
    });
  }

  /** A small blob (an image config) read into memory, checked against its descriptor's size and digest. */
  async blobBytes(desc: Descriptor, max: number): Promise<Buffer> {
    if (desc.size > max) throw new SkiffError(`${this.name}: blob ${desc.digest} is ${desc.size} bytes, more than the ${max} read into memory`, 'EFBIG');
    return withRetries(this.settings, `blob ${desc.digest}`, async () => {
      const { body } = await this.blobSource(desc)(0);
      const chunks: Uint8Array[] = [];
      let n = 0;
      for await (const c of body) {
        n += c.length;
        if (n > desc.size) throw new SkiffError(`${this.name}: blob ${desc.digest} is longer than its ${desc.size} bytes`, 'EINVAL');
        chunks.push(c);
      }
      const bytes = Buffer.concat(chunks);
      if (bytes.length !== desc.size) throw new TransientError(`${this.name}: blob ${desc.digest} ended after ${bytes.length} of ${desc.size} bytes`);
      if (sha256(bytes) !== desc.digest) throw new SkiffError(`${this.name}: blob ${desc.digest} arrived with digest ${sha256(bytes)}`, 'EINVAL');
      return bytes;
    }).catch((err: unknown) => {
      throw err instanceof TransientError ? new SkiffError(err.message, 'EIO') : err;
    });
  }

  async blobExists(digest: string): Promise<boolean> {
    const ep = this.endpoints[this.endpoints.length - 1];
    return withRetries(this.settings, `${ep.host}: blob ${digest}`, async () => {
      const { res, watchdog } = await this.send(ep, `/v2/${this.ref.path}/blobs/${digest}`, { method: 'HEAD' });
      watchdog.stop();
      if (res.ok) return true;
      if (res.status === 404) return false;
      return this.fail(res, ep, `blob ${digest}`);
    });
  }

  /**
   * Pushes a blob the registry lacks: a cross-repository mount from `mountFrom` (a repository path on the same
   * registry holding it) when given, else POST an upload, PATCH it in chunks, PUT ?digest. `read(offset, length)`
   * gives the blob's bytes. Returns how it got there.
   */
  async pushBlob(desc: Descriptor, read: (offset: number, length: number) => Promise<Buffer>, mountFrom?: string): Promise<'exists' | 'mounted' | 'pushed'> {
    if (await this.blobExists(desc.digest)) return 'exists';
    const ep = this.endpoints[this.endpoints.length - 1];
    return withRetries(this.settings, `${ep.host}: upload of ${desc.digest}`, async () => {
      const mountQuery = mountFrom && mountFrom !== this.ref.path ? `?mount=${desc.digest}&from=${encodeURIComponent(mountFrom)}` : '';
      const scope = mountQuery ? `${this.scope} repository:${mountFrom}:pull` : this.scope;
      const { res: start, watchdog, origin } = await this.send(ep, `/v2/${this.ref.path}/blobs/uploads/${mountQuery}`, { method: 'POST' }, scope);
      watchdog.stop();
      await start.body?.cancel();
      if (start.status === 201) return 'mounted';
      if (start.status !== 202) await this.fail(start, ep, `start upload of ${desc.digest}`);
      let location = new URL(start.headers.get('location') ?? '', `${origin}/v2/${this.ref.path}/blobs/uploads/`);
      let offset = 0;
      if (desc.size > PUSH_CHUNK) {
        while (offset < desc.size) {
          const chunk = await read(offset, Math.min(PUSH_CHUNK, desc.size - offset));
          const { res, watchdog: w } = await this.send(ep, location.toString(), {
            method: 'PATCH', body: chunk,
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Length': String(chunk.length) },
          });
          w.stop();
          await res.body?.cancel();
          if (res.status !== 202) await this.fail(res, ep, `upload of ${desc.digest} at byte ${offset}`);
          location = new URL(res.headers.get('location') ?? location.toString(), location);
          offset += chunk.length;
        }
      }
      location.searchParams.set('digest', desc.digest);
      const body = offset < desc.size ? await read(0, desc.size) : new Uint8Array(0);
      const { res: put, watchdog: w } = await this.send(ep, location.toString(), { method: 'PUT', body, headers: { 'Content-Type': 'application/octet-stream' } });
      w.stop();
      if (put.status !== 201) await this.fail(put, ep, `upload of ${desc.digest}`);
      await put.body?.cancel();
      return 'pushed';
    });
  }

  /** PUT a manifest under a tag (or its digest); returns the digest the registry names it by. */
  async pushManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const ep = this.endpoints[this.endpoints.length - 1];
    return withRetries(this.settings, `${ep.host}: manifest ${reference}`, async () => {
      const { res, watchdog } = await this.send(ep, `/v2/${this.ref.path}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': mediaType } });
      watchdog.stop();
      if (res.status !== 201) await this.fail(res, ep, `manifest ${reference}`);
      await res.body?.cancel();
      return res.headers.get('docker-content-digest') ?? sha256(bytes);
    });
  }
}
