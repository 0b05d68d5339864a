// Registry authentication (distribution spec, docker's token auth spec): a 401 carries WWW-Authenticate; Basic is
// answered with the stored credentials, Bearer by asking the realm for a token with service and scope (with the
// credentials as Basic when there are some, anonymously otherwise). An identity token (docker's name for an OAuth2
// refresh token, from a credential helper or config.json's "identitytoken") is exchanged instead by the OAuth2
// form POST of docker's token spec (grant_type=refresh_token), and is never sent as Basic. Tokens are kept per
// scope for the client's life.
import { SkiffError } from '../../common/errors.js';
import type { Credentials } from './credential-types.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header (RFC 7235): one or more challenges, each a scheme and comma-separated
 * name=value parameters whose values may be quoted strings with backslash escapes (a scope holds commas).
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = () => {
    while (i < header.length && /[\s,]/.test(header[i])) i++;
  };
  const token = () => {
    const m = /^[!#$%&'*+.^_`|~\w-]+/.exec(header.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  for (;;) {
    skip();
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      const save = i;
      skip();
      const name = token();
      while (header[i] === ' ') i++;
      if (!name || header[i] !== '=') {
        i = save;
        break;
      }
      i++;
      while (header[i] === ' ') i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i++];
        }
        i++;
      } else value = token();
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return out;
}

export type AuthFetch = (url: string, init: { method?: string; headers: Record<string, string>; body?: string }) => Promise<Response>;

/** How credentials are named in messages: `the credentials of "user"`, the identity token or the registry token. */
export function describeCredentials(c: Credentials): string {
  return c.registryToken ? 'the registry token' : c.identityToken ? 'the identity token' : `the credentials of "${c.username}"`;
}

export class Authorizer {
  private readonly byScope = new Map<string, string>();
  private basicTried = false;

  constructor(private readonly host: string, private readonly credentials: Credentials | undefined, private readonly fetchFn: AuthFetch) {}

  private get basic(): string | undefined {
    const c = this.credentials;
    return c && !c.identityToken && !c.registryToken ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  /** The Authorization header to send for `scope`, if one is known. */
  header(scope: string): string | undefined {
    const given = this.credentials?.registryToken;
    return this.byScope.get(scope) ?? this.byScope.get('*') ?? (given ? `Bearer ${given}` : undefined);
  }

  /**
   * Answers a 401's challenge for `scope`. Returns true if there is something new to try; false if the request
   * cannot be authorized (no credentials for Basic, or the same answer was refused already).
   */
  async answer(res: Response, scope: string): Promise<boolean> {
    // A registry token was sent with the request and refused: there is nothing else to try.
    if (this.credentials?.registryToken) return false;
    const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) return this.bearer(bearer.params, scope);
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.basic || this.basicTried) return false;
      this.basicTried = true;
      this.byScope.set('*', this.basic);
      return true;
    }
    return false;
  }

  private async bearer(params: Record<string, string>, scope: string): Promise<boolean> {
    if (!params.realm) throw new SkiffError(`${this.host}: the registry's Bearer challenge has no realm`, 'EPROTO');
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      throw new SkiffError(`${this.host}: the token realm "${params.realm}" is not a URL`, 'EPROTO');
    }
    // The challenge's scope is what this request needs; ours adds push when pushing. Ask for both.
    const scopes = [...new Set([...scope.split(' '), params.scope ?? ''].filter(Boolean))];
    const res = this.credentials?.identityToken ? await this.tokenPostRefresh(url, params.service, scopes, this.credentials.identityToken) : await this.tokenGet(url, params.service, scopes);
    if (res.status === 401 || res.status === 403) {
      throw new SkiffError(`${this.host}: the token server ${url.origin} refused ${this.credentials ? describeCredentials(this.credentials) : 'an anonymous token'}: HTTP ${res.status}`, 'EACCES');
    }
    if (!res.ok) throw new SkiffError(`${this.host}: the token server ${url.origin} answered HTTP ${res.status}`, 'EIO');
    let body: { token?: string; access_token?: string };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new SkiffError(`${this.host}: the token server ${url.origin} sent no JSON`, 'EPROTO');
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new SkiffError(`${this.host}: the token server ${url.origin} sent no token`, 'EPROTO');
    const header = `Bearer ${token}`;
    if (this.byScope.get(scope) === header) return false;
    this.byScope.set(scope, header);
    return true;
  }

  /** GET realm?service=&scope=..., with the credentials as Basic if there are some. */
  private tokenGet(realm: URL, service: string | undefined, scopes: string[]): Promise<Response> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.basic) headers.Authorization = this.basic;
    return this.fetchFn(url.toString(), { headers });
  }

  /** The OAuth2 form POST of docker's token spec: the refresh token for an access token, scopes space-separated. */
  private tokenPostRefresh(realm: URL, service: string | undefined, scopes: string[], refreshToken: string): Promise<Response> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'skiff', scope: scopes.join(' ') });
    if (service) form.set('service', service);
    return this.fetchFn(realm.toString(), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  }
}
