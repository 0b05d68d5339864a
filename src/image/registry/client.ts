// A registry client for pulling (distribution spec v2): manifests by tag or digest with the Accept list of OCI and
// Docker types, blobs (redirects followed), the anonymous Bearer token flow from a WWW-Authenticate challenge.
// localhost and 127.0.0.0/8 are spoken to over plain HTTP, as docker does; others over HTTPS.
import { SkiffError } from '../../common/errors.js';
import { MEDIA_TYPES } from '../media-types.js';
import type { ImageReference } from '../reference.js';
import type { Credentials } from './credentials.js';

const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest].join(', ');
const TIMEOUT_MS = 60_000;

function isLoopback(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '');
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** docker.io is served from registry-1.docker.io (its API host). */
function apiHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

export class RegistryClient {
  private authorization?: string;
  private readonly base: string;

  constructor(private readonly ref: ImageReference, private readonly credentials?: Credentials) {
    this.base = `${isLoopback(ref.domain) ? 'http' : 'https'}://${apiHost(ref.domain)}/v2/${ref.path}`;
  }

  private async request(url: string, accept?: string, init: { method?: string; body?: Buffer; contentType?: string } = {}): Promise<Response> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = {};
      if (accept) headers.Accept = accept;
      if (init.contentType) headers['Content-Type'] = init.contentType;
      if (this.authorization) headers.Authorization = this.authorization;
      let res: Response;
      try {
        res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body ? new Uint8Array(init.body) : undefined, signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        throw new SkiffError(`${this.ref.domain}: cannot reach the registry: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, 'ECONNREFUSED');
      }
      if (res.status === 401 && attempt === 0 && (await this.authenticate(res, init.method && init.method !== 'GET' && init.method !== 'HEAD' ? 'pull,push' : 'pull'))) continue;
      return res;
    }
    throw new SkiffError(`${this.ref.domain}: authentication failed`, 'EACCES');
  }

  /**
   * Answers a WWW-Authenticate challenge: Basic with the stored credentials, or Bearer: a token from the realm
   * (realm, service, scope), asked for with the credentials when there are some, anonymously otherwise.
   */
  private async authenticate(res: Response, actions: string): Promise<boolean> {
    const header = res.headers.get('www-authenticate') ?? '';
    const basic = this.credentials && `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    if (/^Basic /i.test(header)) {
      if (!basic || this.authorization === basic) return false;
      this.authorization = basic;
      return true;
    }
    if (!/^Bearer /i.test(header)) return false;
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) return false;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.ref.path}:${actions}`);
    const tr = await fetch(url, { headers: basic ? { Authorization: basic } : {}, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!tr.ok) throw new SkiffError(`${this.ref.domain}: the token server refused: HTTP ${tr.status}`, 'EACCES');
    const body = (await tr.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token) this.authorization = `Bearer ${token}`;
    return Boolean(token);
  }

  private async fail(res: Response, what: string): Promise<never> {
    let detail = '';
    try {
      const body = (await res.json()) as { errors?: { code: string; message: string }[] };
      detail = body.errors?.map((e) => `${e.code}: ${e.message}`).join('; ') ?? '';
    } catch {
      // no JSON error body
    }
    const code = res.status === 404 ? 'ENOENT' : res.status === 401 || res.status === 403 ? 'EACCES' : 'EIO';
    throw new SkiffError(`${this.ref.domain}/${this.ref.path}: ${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`, code);
  }

  /** GET /v2/ (the API version check), authenticating as the registry asks: what `login` verifies. */
  async ping(): Promise<void> {
    const res = await this.request(`${this.base.slice(0, this.base.indexOf('/v2/') + 4)}`);
    if (!res.ok) await this.fail(res, 'login');
  }

  /** The manifest (or index) for a tag or digest: its bytes and media type. */
  async manifest(reference: string): Promise<{ bytes: Buffer; mediaType: string }> {
    const res = await this.request(`${this.base}/manifests/${reference}`, MANIFEST_ACCEPT);
    if (!res.ok) await this.fail(res, `manifest ${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0] || (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType || '';
    return { bytes, mediaType };
  }

  /** Pushes a blob unless the registry has it: POST an upload, then PUT it whole with its digest. */
  async pushBlob(digest: string, data: Buffer): Promise<boolean> {
    const head = await this.request(`${this.base}/blobs/${digest}`, undefined, { method: 'HEAD' });
    if (head.ok) return false;
    const start = await this.request(`${this.base}/blobs/uploads/`, undefined, { method: 'POST' });
    if (start.status !== 202) await this.fail(start, `start upload of ${digest}`);
    const location = new URL(start.headers.get('location') ?? '', `${this.base}/`);
    location.searchParams.set('digest', digest);
    const put = await this.request(location.toString(), undefined, { method: 'PUT', body: data, contentType: 'application/octet-stream' });
    if (put.status !== 201) await this.fail(put, `upload of ${digest}`);
    return true;
  }

  async pushManifest(reference: string, bytes: Buffer, mediaType: string): Promise<void> {
    const res = await this.request(`${this.base}/manifests/${reference}`, undefined, { method: 'PUT', body: bytes, contentType: mediaType });
    if (res.status !== 201) await this.fail(res, `manifest ${reference}`);
  }

  async blob(digest: string): Promise<Buffer> {
    const res = await this.request(`${this.base}/blobs/${digest}`);
    if (!res.ok) await this.fail(res, `blob ${digest}`);
    return Buffer.from(await res.arrayBuffer());
  }
}
