// A token server as docker's token authentication spec describes it, for a docker-registry started with
// `auth: token`: GET /token?service=S&scope=repository:NAME:ACTIONS (scope repeatable), Basic credentials checked
// against one user, anonymous callers given `anonymous` actions (none by default); and the spec's OAuth2 form POST
// /token (grant_type=refresh_token, scope space-separated), where the user's `refreshToken` (docker's identity
// token) stands for the user. Tokens are JWTs signed RS256 with
// a key whose self-signed certificate (made by openssl) is the registry's rootcertbundle; the certificate travels
// in the header's x5c, which the registry checks against that bundle. Every request is recorded for the tests.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { TokenAuthSettings } from './registry.js';

export interface TokenRequest {
  user?: string;
  scopes: string[];
  status: number;
  /** The OAuth2 grant_type of a POST; undefined for a GET. */
  grant?: string;
}

export interface TokenServer {
  settings: TokenAuthSettings;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(dir: string, user: { name: string; password: string; refreshToken?: string }, anonymous: string[] = []): Promise<TokenServer> {
  const key = join(dir, 'token-key.pem');
  const cert = join(dir, 'token-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=skiff-test-token'], { stdio: 'ignore' });
  const privateKey = createPrivateKey(readFileSync(key));
  const der = new X509Certificate(readFileSync(cert)).raw;
  const issuer = 'skiff-test-issuer';
  const service = 'skiff-test-registry';
  const requests: TokenRequest[] = [];

  const token = (sub: string, access: { type: string; name: string; actions: string[] }[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    return `${header}.${claims}.${b64url(sign('sha256', Buffer.from(`${header}.${claims}`), privateKey))}`;
  };

  const refuse = (res: ServerResponse, request: TokenRequest) => {
    requests.push(request);
    res.writeHead(401, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
  };
  const grant = (res: ServerResponse, who: string | undefined, scopes: string[], grantType?: string) => {
    const access = scopes.flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      const actions = m[2].split(',').filter((a) => (who ? true : anonymous.includes(a)));
      return actions.length ? [{ type: 'repository', name: m[1], actions }] : [];
    });
    requests.push({ user: who, scopes, status: 200, ...(grantType ? { grant: grantType } : {}) });
    const t = token(who ?? '', access);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token: t, access_token: t, expires_in: 300, issued_at: new Date().toISOString() }));
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => {
        const form = new URLSearchParams(body);
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        const grantType = form.get('grant_type') ?? '';
        if (grantType !== 'refresh_token' || !user.refreshToken || form.get('refresh_token') !== user.refreshToken) return refuse(res, { scopes, status: 401, grant: grantType });
        grant(res, user.name, scopes, grantType);
      });
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    let who: string | undefined;
    if (basic) {
      const [name, ...rest] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      if (name !== user.name || rest.join(':') !== user.password) return refuse(res, { user: name, scopes, status: 401 });
      who = name;
    }
    grant(res, who, scopes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    settings: { realm: `http://127.0.0.1:${port}/token`, service, issuer, rootcertbundle: cert },
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
