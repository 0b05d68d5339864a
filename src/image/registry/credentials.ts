// Registry credentials in docker's config.json format ({"auths": {"host": {"auth": base64("user:pass")}}}):
// ~/.docker/config.json by default (or --authfile), and containers' ${XDG_RUNTIME_DIR}/containers/auth.json read too.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { SkiffError } from '../../common/errors.js';

export interface Credentials {
  username: string;
  password: string;
}

type AuthFile = { auths?: Record<string, { auth?: string }> } & Record<string, unknown>;

export function defaultAuthFile(): string {
  return join(process.env.HOME ?? homedir(), '.docker', 'config.json');
}

function readAuthFile(path: string): AuthFile {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as AuthFile;
  } catch (err) {
    throw new SkiffError(`${path}: invalid JSON: ${(err as Error).message}`, 'EINVAL');
  }
}

export function findCredentials(host: string, authFile = defaultAuthFile()): Credentials | undefined {
  const files = [authFile];
  if (process.env.XDG_RUNTIME_DIR) files.push(join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  for (const f of files) {
    const entry = readAuthFile(f).auths?.[host];
    if (!entry?.auth) continue;
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  return undefined;
}

export async function storeCredentials(host: string, creds: Credentials | undefined, authFile = defaultAuthFile()): Promise<void> {
  const file = readAuthFile(authFile);
  const auths = { ...(file.auths ?? {}) };
  if (creds) auths[host] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  else if (!auths[host]) throw new SkiffError(`not logged in to ${host} (${authFile})`, 'ENOENT');
  else delete auths[host];
  mkdirSync(dirname(authFile), { recursive: true, mode: 0o700 });
  await writeFileAtomic(authFile, JSON.stringify({ ...file, auths }, null, '\t') + '\n', 0o600);
}
