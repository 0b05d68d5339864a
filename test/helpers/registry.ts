// Debian's docker-registry on 127.0.0.1 and a free port, storage in a temp dir, for pull tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  /** host:port */
  address: string;
  stop(): Promise<void>;
}

/** A port on 127.0.0.1 that nothing listens on now (the kernel's pick). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** docker-registry's `auth: token` settings: it sends clients to `realm` and trusts tokens signed by `rootcertbundle`'s key. */
export interface TokenAuthSettings {
  realm: string;
  service: string;
  issuer: string;
  rootcertbundle: string;
}

/** docker-registry's `http.tls`: it serves HTTPS only, with this certificate chain and key (PEM files). */
export interface TlsSettings {
  certificate: string;
  key: string;
}

/** Whether the registry answers /v2/ yet; over TLS the test's own certificate is not checked here. */
function answers(address: string, tls: boolean): Promise<boolean> {
  if (!tls) return fetch(`http://${address}/v2/`).then((r) => r.ok || r.status === 401, () => false);
  return new Promise((resolve) => {
    httpsGet(`https://${address}/v2/`, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    }).on('error', () => resolve(false));
  });
}

/**
 * With `user`, the registry asks for HTTP Basic auth (bcrypt htpasswd from apache2-utils); with `token`, for
 * Bearer tokens from a token server (test/helpers/token-server.ts); with `tls`, it speaks HTTPS only.
 */
export async function startRegistry(user?: { name: string; password: string }, token?: TokenAuthSettings, tls?: TlsSettings): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-registry-'));
  const port = await freePort();
  const auth: string[] = [];
  if (user) {
    const line = execFileSync('htpasswd', ['-Bbn', user.name, user.password], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'htpasswd'), line + '\n');
    auth.push('auth:', '  htpasswd:', '    realm: skiff-test', `    path: ${dir}/htpasswd`);
  } else if (token) {
    auth.push('auth:', '  token:', ...Object.entries(token).map(([k, v]) => `    ${k}: ${v}`));
  }
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`,
    'http:', `  addr: 127.0.0.1:${port}`, ...(tls ? ['  tls:', `    certificate: ${tls.certificate}`, `    key: ${tls.key}`] : []), ...auth,
  ].join('\n') + '\n');
  const proc: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const address = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await answers(address, Boolean(tls))) break;
    if (i === 99) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address,
    async stop() {
      proc.kill();
      await new Promise((r) => proc.on('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
