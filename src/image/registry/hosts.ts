// Registry configuration: <root>/registries.json. Like containerd's hosts.toml and containers' registries.conf,
// per registry host: mirrors tried in order before the registry itself for pulls, plain HTTP (insecure), and an
// API endpoint other than the host name; plus the transfer settings. Every field is checked and a bad one named by
// its JSON path. Example:
//
//   {
//     "registries": {
//       "docker.io":       { "mirrors": ["http://127.0.0.1:5000", "mirror.example.com"] },
//       "registry.lan:80": { "insecure": true }
//     },
//     "maxConcurrentDownloads": 3, "retries": 3, "noProgressTimeoutSeconds": 60
//   }
//
// A mirror is host[:port] or a URL with http:// or https://; a bare host is spoken to as the registry itself
// would be (plain HTTP only for loopback or an insecure entry). localhost and 127.0.0.0/8 get plain HTTP when they
// do not speak TLS without any entry, as docker does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError, type Problem } from '../../common/errors.js';

export interface HostSettings {
  mirrors?: string[];
  /** Plain HTTP is allowed (tried when TLS fails). */
  insecure?: boolean;
  /** Where the registry's API is served, when not at the host name (docker.io is served by registry-1.docker.io). */
  endpoint?: string;
}

export interface RegistriesConfig {
  registries: Record<string, HostSettings>;
  maxConcurrentDownloads: number;
  retries: number;
  noProgressTimeoutSeconds: number;
}

/** One place a repository can be reached: base URL candidates (HTTPS first, then HTTP if allowed). */
export interface Endpoint {
  /** The host as configured or named (for messages and credentials). */
  host: string;
  /** URL origins to try in order, e.g. ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]. */
  origins: string[];
  mirror: boolean;
}

export const DEFAULT_CONFIG: RegistriesConfig = { registries: {}, maxConcurrentDownloads: 3, retries: 3, noProgressTimeoutSeconds: 60 };

export function registriesConfigPath(root: string): string {
  return join(root, 'registries.json');
}

const HOST = /^(?:[a-zA-Z0-9.-]+|\[[a-fA-F0-9:]+\])(?::\d+)?$/;

/** Reads <root>/registries.json; no file is the defaults. */
export function loadRegistriesConfig(root: string): RegistriesConfig {
  const file = registriesConfigPath(root);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_CONFIG;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(file, [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return validateRegistriesConfig(raw, file);
}

export function validateRegistriesConfig(raw: unknown, source: string): RegistriesConfig {
  const problems: Problem[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw)) throw new ValidationError(source, [{ path: '(file)', message: 'must be a JSON object' }]);
  const out: RegistriesConfig = { ...DEFAULT_CONFIG, registries: {} };
  for (const key of Object.keys(raw)) {
    if (!['registries', 'maxConcurrentDownloads', 'retries', 'noProgressTimeoutSeconds'].includes(key)) problems.push({ path: key, message: 'unknown field' });
  }
  const count = (key: 'maxConcurrentDownloads' | 'retries' | 'noProgressTimeoutSeconds', min: number, max: number) => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push({ path: key, message: `must be an integer from ${min} to ${max}` });
    else out[key] = v;
  };
  count('maxConcurrentDownloads', 1, 64);
  count('retries', 0, 20);
  count('noProgressTimeoutSeconds', 1, 3600);
  const regs = raw.registries ?? {};
  if (!isObject(regs)) problems.push({ path: 'registries', message: 'must be an object keyed by registry host' });
  else {
    for (const [host, settings] of Object.entries(regs)) {
      const at = `registries["${host}"]`;
      if (!HOST.test(host)) problems.push({ path: at, message: 'the key must be a registry host[:port]' });
      if (!isObject(settings)) {
        problems.push({ path: at, message: 'must be an object' });
        continue;
      }
      const s: HostSettings = {};
      for (const [k, v] of Object.entries(settings)) {
        if (k === 'insecure') {
          if (typeof v !== 'boolean') problems.push({ path: `${at}.insecure`, message: 'must be true or false' });
          else s.insecure = v;
        } else if (k === 'mirrors') {
          if (!Array.isArray(v)) problems.push({ path: `${at}.mirrors`, message: 'must be an array of host[:port] or http(s):// URLs' });
          else {
            v.forEach((m, i) => {
              if (typeof m !== 'string' || !validLocation(m)) problems.push({ path: `${at}.mirrors[${i}]`, message: `"${String(m)}" is not host[:port] or an http(s):// URL` });
            });
            s.mirrors = v as string[];
          }
        } else if (k === 'endpoint') {
          if (typeof v !== 'string' || !validLocation(v)) problems.push({ path: `${at}.endpoint`, message: 'must be host[:port] or an http(s):// URL' });
          else s.endpoint = v;
        } else problems.push({ path: `${at}.${k}`, message: 'unknown field (mirrors, insecure, endpoint are known)' });
      }
      out.registries[host] = s;
    }
  }
  if (problems.length) throw new ValidationError(source, problems);
  return out;
}

function validLocation(s: string): boolean {
  if (/^https?:\/\//.test(s)) {
    try {
      const u = new URL(s);
      return u.pathname === '/' || u.pathname === '';
    } catch {
      return false;
    }
  }
  return HOST.test(s);
}

export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '');
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]';
}

function endpointOf(location: string, insecure: boolean, mirror: boolean): Endpoint {
  if (/^https?:\/\//.test(location)) {
    const u = new URL(location);
    return { host: u.host, origins: [u.origin], mirror };
  }
  const origins = [`https://${location}`];
  if (insecure || isLoopback(location)) origins.push(`http://${location}`);
  return { host: location, origins, mirror };
}

/** Where to pull from (mirrors first, then the registry) or push to (the registry only). */
export function endpointsFor(config: RegistriesConfig, domain: string, purpose: 'pull' | 'push'): Endpoint[] {
  const s = config.registries[domain] ?? {};
  const out: Endpoint[] = [];
  if (purpose === 'pull') {
    for (const m of s.mirrors ?? []) out.push(endpointOf(m, Boolean(config.registries[m.replace(/^https?:\/\//, '')]?.insecure), true));
  }
  const api = s.endpoint ?? (domain === 'docker.io' ? 'registry-1.docker.io' : domain);
  const ep = endpointOf(api, Boolean(s.insecure), false);
  out.push({ ...ep, host: domain });
  return out;
}
