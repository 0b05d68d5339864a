// Registry credentials in docker's config.json format ({"auths": {"host": {"auth": base64("user:pass")}}}):
// ~/.docker/config.json by default (or --authfile), then containers' ${XDG_RUNTIME_DIR}/containers/auth.json.
// Keys are matched as docker and containers-auth.json(5) do: "host", "https://host/v1/", and (auth.json) the most
// specific "host/namespace/repo" prefix first; docker.io also answers to index.docker.io's historical keys.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { SkiffError } from '../../common/errors.js';

export interface Credentials {
  username: string;
  password: string;
}

type AuthEntry = { auth?: string; identitytoken?: string; username?: string; password?: string };
type AuthFile = { auths?: Record<string, AuthEntry>; credHelpers?: Record<string, string>; credsStore?: string } & Record<string, unknown>;

export function defaultAuthFile(): string {
  return join(process.env.HOME || homedir(), '.docker', 'config.json');
}

function readAuthFile(path: string): AuthFile {
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as AuthFile;
  } catch (err) {
    throw new SkiffError(`${path}: invalid JSON: ${(err as Error).message}`, 'EINVAL');
  }
}

/** The key in `auths` a stored entry is under, reduced to host[/path]: "https://index.docker.io/v1/" -> "docker.io". */
function normalizeKey(key: string): string {
  const k = key.replace(/^https?:\/\//, '').replace(/\/v[12]\/?$/, '').replace(/\/+$/, '');
  return k === 'index.docker.io' || k === 'registry-1.docker.io' ? 'docker.io' : k;
}

function decode(entry: AuthEntry, where: string): Credentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) throw new SkiffError(`${where}.auth: not base64 of "user:password"`, 'EINVAL');
    return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (entry.identitytoken) throw new SkiffError(`${where}.identitytoken: OAuth identity tokens are not supported; log in with skiff login`, 'ENOTSUP');
  return undefined;
}

/** Credentials for `host` (and repository path, for auth.json's per-repository keys), or undefined: anonymous. */
export function findCredentials(host: string, authFile = defaultAuthFile(), repository?: string): Credentials | undefined {
  const files = [authFile];
  if (process.env.XDG_RUNTIME_DIR) files.push(join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  const wanted = normalizeKey(host);
  for (const f of files) {
    const file = readAuthFile(f);
    const candidates = Object.entries(file.auths ?? {})
      .map(([key, entry]) => ({ key, norm: normalizeKey(key), entry }))
      .filter(({ norm }) => norm === wanted || (repository !== undefined && `${wanted}/${repository}`.startsWith(`${norm}/`)))
      .sort((a, b) => b.norm.length - a.norm.length);
    for (const c of candidates) {
      const creds = decode(c.entry, `${f}: auths["${c.key}"]`);
      if (creds) return creds;
    }
    const helper = file.credHelpers?.[host] ?? file.credsStore;
    if (helper) throw new SkiffError(`${f}: credential helper "docker-credential-${helper}" for ${host} is not supported; use skiff login --authfile`, 'ENOTSUP');
  }
  return undefined;
}

/** Stores (or, with no credentials, removes) the entry of `host`; a logout of a host not logged in is an error. */
export async function storeCredentials(host: string, creds: Credentials | undefined, authFile = defaultAuthFile()): Promise<void> {
  const file = readAuthFile(authFile);
  const auths = { ...(file.auths ?? {}) };
  const keys = Object.keys(auths).filter((k) => normalizeKey(k) === normalizeKey(host));
  if (creds) {
    for (const k of keys) delete auths[k];
    auths[host] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  } else if (keys.length === 0) throw new SkiffError(`not logged in to ${host} (${authFile})`, 'ENOENT');
  else for (const k of keys) delete auths[k];
  mkdirSync(dirname(authFile), { recursive: true, mode: 0o700 });
  await writeFileAtomic(authFile, JSON.stringify({ ...file, auths }, null, '\t') + '\n', 0o600);
}
