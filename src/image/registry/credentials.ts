// Registry credentials in docker's config.json format: ~/.docker/config.json by default (or --authfile), then
// containers' ${XDG_RUNTIME_DIR}/containers/auth.json. As docker reads it:
//   - a credential helper for the host (credHelpers["host"], else credsStore) holds them, and is the only place
//     looked at in that file (credential-helper.ts);
//   - otherwise "auths": {"host": {"auth": base64("user:pass")}} or {"identitytoken": ...}.
// Keys are matched as docker and containers-auth.json(5) do: "host", "https://host/v1/", and (auth.json) the most
// specific "host/namespace/repo" prefix first. docker.io is stored under the key docker's CLI uses,
// "https://index.docker.io/v1/" (and given to helpers as that server URL), and found under its other historical
// keys too.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { SkiffError } from '../../common/errors.js';
import { helperErase, helperGet, HelperNotInstalled, helperStore, type CredentialHelper } from './credential-helper.js';
import type { Credentials } from './credential-types.js';

export interface CredentialLookup {
  credentials?: Credentials;
  /** Why there are none although some may exist: a configured credential helper that is not installed. */
  missing?: string;
}

type AuthEntry = { auth?: string; identitytoken?: string; username?: string; password?: string };
type AuthFile = { auths?: Record<string, AuthEntry>; credHelpers?: Record<string, string>; credsStore?: string } & Record<string, unknown>;

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function defaultAuthFile(): string {
  return join(process.env.HOME || homedir(), '.docker', 'config.json');
}

const stderrWarning = (line: string) => {
  process.stderr.write(`warning: ${line}\n`);
};

function readAuthFile(path: string): AuthFile {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  } catch (err) {
    throw new SkiffError(`${path}: invalid JSON: ${(err as Error).message}`, 'EINVAL');
  }
  const file = parsed as AuthFile;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (file.auths !== undefined && !isObject(file.auths)) throw new SkiffError(`${path}: auths: must be an object keyed by registry`, 'EINVAL');
  if (file.credHelpers !== undefined && (!isObject(file.credHelpers) || Object.values(file.credHelpers).some((v) => typeof v !== 'string'))) {
    throw new SkiffError(`${path}: credHelpers: must be an object of registry -> helper name`, 'EINVAL');
  }
  if (file.credsStore !== undefined && typeof file.credsStore !== 'string') throw new SkiffError(`${path}: credsStore: must be a helper name`, 'EINVAL');
  return file;
}

/** The key in `auths` a stored entry is under, reduced to host[/path]: "https://index.docker.io/v1/" -> "docker.io". */
export function normalizeKey(key: string): string {
  const k = key.replace(/^https?:\/\//, '').replace(/\/v[12]\/?$/, '').replace(/\/+$/, '');
  return k === 'index.docker.io' || k === 'registry-1.docker.io' ? 'docker.io' : k;
}

/** The key docker's CLI stores a registry's login under, and the server URL it gives credential helpers. */
export function authKey(host: string): string {
  return normalizeKey(host) === 'docker.io' ? DOCKER_HUB_KEY : host;
}

/**
 * The helper that holds `host`'s credentials in `file`, as docker chooses: credHelpers' entry for the host (an
 * empty name there means "this file, not the credsStore"), else credsStore.
 */
function helperFor(file: AuthFile, path: string, host: string): CredentialHelper | undefined {
  const entry = Object.entries(file.credHelpers ?? {}).find(([key]) => normalizeKey(key) === normalizeKey(host));
  const [name, field] = entry ? [entry[1], `credHelpers["${entry[0]}"]`] : [file.credsStore ?? '', 'credsStore'];
  if (!name) return undefined;
  // The name becomes part of a program name looked up on PATH: no path separators or options.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new SkiffError(`${path}: ${field}: "${name}" is not a credential helper name (docker-credential-NAME)`, 'EINVAL');
  return { name, where: `${field} in ${path}` };
}

function decode(entry: AuthEntry, where: string): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) throw new SkiffError(`${where}: must be an object`, 'EINVAL');
  // docker prefers the identity token: it is what a login through an OAuth2 token server left.
  if (entry.identitytoken) return { username: entry.username ?? '', password: '', identityToken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) throw new SkiffError(`${where}.auth: not base64 of "user:password"`, 'EINVAL');
    return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/**
 * Credentials for `host` (and repository path, for auth.json's per-repository keys). A configured helper that is
 * not installed is one warning, then anonymous, as docker does: a public image still pulls.
 */
export function lookupCredentials(host: string, authFile = defaultAuthFile(), repository?: string, warn: (line: string) => void = stderrWarning): CredentialLookup {
  const files = [authFile];
  if (process.env.XDG_RUNTIME_DIR) files.push(join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  const wanted = normalizeKey(host);
  let missing: string | undefined;
  for (const f of files) {
    const file = readAuthFile(f);
    const helper = helperFor(file, f, host);
    if (helper) {
      try {
        const credentials = helperGet(helper, authKey(host));
        if (credentials) return { credentials };
      } catch (err) {
        if (!(err instanceof HelperNotInstalled)) throw err;
        warn(`${err.message}; continuing without credentials for ${host}`);
        missing ??= err.message;
      }
      continue;
    }
    const candidates = Object.entries(file.auths ?? {})
      .map(([key, entry]) => ({ key, norm: normalizeKey(key), entry }))
      .filter(({ norm }) => norm === wanted || (repository !== undefined && `${wanted}/${repository}`.startsWith(`${norm}/`)))
      .sort((a, b) => b.norm.length - a.norm.length);
    for (const c of candidates) {
      const credentials = decode(c.entry, `${f}: auths["${c.key}"]`);
      if (credentials) return { credentials };
    }
  }
  return missing ? { missing } : {};
}

/** Credentials for `host`, or undefined: anonymous. */
export function findCredentials(host: string, authFile = defaultAuthFile(), repository?: string): Credentials | undefined {
  return lookupCredentials(host, authFile, repository).credentials;
}

/** `auths` without the entries of `host` (under any of its key forms). */
function authsWithout(file: AuthFile, host: string): Record<string, AuthEntry> {
  return Object.fromEntries(Object.entries(file.auths ?? {}).filter(([k]) => normalizeKey(k) !== normalizeKey(host)));
}

async function writeAuthFile(path: string, file: AuthFile, auths: Record<string, AuthEntry>): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify({ ...file, auths }, null, '\t') + '\n', 0o600);
}

/**
 * Stores `host`'s credentials: through its credential helper when one is configured (the file then keeps an empty
 * entry, as docker's does, so the login is listed without its secret), else base64 in `auths`.
 */
export async function storeCredentials(host: string, creds: Credentials, authFile = defaultAuthFile()): Promise<void> {
  const file = readAuthFile(authFile);
  const helper = helperFor(file, authFile, host);
  const auths = authsWithout(file, host);
  if (helper) {
    helperStore(helper, authKey(host), creds);
    auths[authKey(host)] = {};
  } else auths[authKey(host)] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  await writeAuthFile(authFile, file, auths);
}

/** Removes `host`'s credentials from the file and its credential helper; false if there were none. */
export async function removeCredentials(host: string, authFile = defaultAuthFile(), warn: (line: string) => void = stderrWarning): Promise<boolean> {
  const file = readAuthFile(authFile);
  const inFile = Object.keys(file.auths ?? {}).some((k) => normalizeKey(k) === normalizeKey(host));
  const helper = helperFor(file, authFile, host);
  let inHelper = false;
  if (helper) {
    try {
      inHelper = helperGet(helper, authKey(host)) !== undefined && helperErase(helper, authKey(host));
    } catch (err) {
      if (!(err instanceof HelperNotInstalled)) throw err;
      warn(`${err.message}; only ${authFile} is changed`);
    }
  }
  if (inFile) await writeAuthFile(authFile, file, authsWithout(file, host));
  return inFile || inHelper;
}
