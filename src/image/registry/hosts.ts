// Registry configuration: <root>/registries.json. Like containerd's hosts.toml and containers' registries.conf,
// per registry host: mirrors tried in order before the registry itself for pulls, docker's insecure-registry
// (plain HTTP allowed, certificates not verified), a CA to trust (docker's /etc/docker/certs.d/HOST/ca.crt), and
// an API endpoint other than the host name; plus the transfer settings. Every field is checked and a bad one named
// by its JSON path. Example:
//
//   {
//     "registries": {
//       "docker.io":         { "mirrors": ["http://127.0.0.1:5000", "mirror.example.com"] },
//       "registry.lan:80":   { "insecure": true },
//       "registry.corp:443": { "ca": "/etc/skiff/corp-ca.pem" }
//     },
//     "maxConcurrentDownloads": 3, "retries": 3, "noProgressTimeoutSeconds": 60
//   }
//
// A mirror is host[:port] or a URL with http:// or https://; a bare host is spoken to as the registry itself
// would be (plain HTTP only for loopback or an insecure entry), and takes its own entry's insecure and ca.
// localhost and 127.0.0.0/8 get plain HTTP when they do not speak TLS at all, without any entry, as docker does;
// a certificate they present is verified like any other.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ValidationError, type Problem } from '../../common/errors.js';

export interface HostSettings {
  mirrors?: string[];
  /** docker's insecure-registry: plain HTTP is allowed (tried when TLS fails) and certificates are not verified. */
  insecure?: boolean;
  /** A PEM file of CA certificates trusted for this host, besides the system's. */
  ca?: string;
  /** The certificates of `ca`, read when the configuration is loaded. */
  caCertificates?: string;
  /** Where the registry's API is served, when not at the host name (docker.io is served by registry-1.docker.io). */
  endpoint?: string;
}

export interface RegistriesConfig {
  /** The file it was read from (named in errors that say what to configure). */
  file?: string;
  registries: Record<string, HostSettings>;
  maxConcurrentDownloads: number;
  retries: number;
  noProgressTimeoutSeconds: number;
}

/** How HTTPS to an endpoint is verified, when not as usual (the system's CAs). */
export interface EndpointTls {
  /** Certificates are not verified (an insecure registry). */
  insecure?: boolean;
  /** PEM CA certificates trusted besides the system's. */
  ca?: string;
}

/** One place a repository can be reached: base URL candidates (HTTPS first, then HTTP if allowed). */
export interface Endpoint {
  /** The host as configured or named (for messages, credentials and its registries.json entry). */
  host: string;
  /** URL origins to try in order, e.g. ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]. */
  origins: string[];
  mirror: boolean;
  tls?: EndpointTls;
}

export const DEFAULT_CONFIG: RegistriesConfig = { registries: {}, maxConcurrentDownloads: 3, retries: 3, noProgressTimeoutSeconds: 60 };

export function registriesConfigPath(root: string): string {
  return join(root, 'registries.json');
}

const HOST = /^(?:[a-zA-Z0-9.-]+|\[[a-fA-F0-9:]+\])(?::\d+)?$/;

/** Reads <root>/registries.json (or `file`); no file is the defaults. */
export function loadRegistriesConfig(root: string, file = registriesConfigPath(root)): RegistriesConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_CONFIG, file };
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(file, [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return { ...validateRegistriesConfig(raw, file), file };
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
        } else if (k === 'ca') {
          const problem = typeof v === 'string' ? caProblem(v) : 'must be the path of a PEM file of CA certificates';
          if (problem) problems.push({ path: `${at}.ca`, message: problem });
          else {
            s.ca = v as string;
            s.caCertificates = readFileSync(v as string, 'utf8');
          }
        } else problems.push({ path: `${at}.${k}`, message: 'unknown field (mirrors, insecure, ca, endpoint are known)' });
      }
      out.registries[host] = s;
    }
  }
  if (problems.length) throw new ValidationError(source, problems);
  return out;
}

/** Why `path` is not a usable CA file, or undefined. */
function caProblem(path: string): string | undefined {
  if (!isAbsolute(path)) return `"${path}" is not an absolute path`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return `cannot read ${path}: ${(err as Error).message}`;
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!pems) return `${path} holds no PEM certificate`;
  for (const [i, pem] of pems.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      return `${path}: certificate ${i + 1} does not parse: ${(err as Error).message}`;
    }
  }
  return undefined;
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

function endpointOf(location: string, settings: HostSettings, mirror: boolean): Endpoint {
  const tls: EndpointTls | undefined = settings.insecure ? { insecure: true } : settings.caCertificates ? { ca: settings.caCertificates } : undefined;
  if (/^https?:\/\//.test(location)) {
    const u = new URL(location);
    return { host: u.host, origins: [u.origin], mirror, ...(tls ? { tls } : {}) };
  }
  const origins = [`https://${location}`];
  if (settings.insecure || isLoopback(location)) origins.push(`http://${location}`);
  return { host: location, origins, mirror, ...(tls ? { tls } : {}) };
}

/** Where to pull from (mirrors first, then the registry) or push to (the registry only). */
export function endpointsFor(config: RegistriesConfig, domain: string, purpose: 'pull' | 'push'): Endpoint[] {
  const s = config.registries[domain] ?? {};
  const out: Endpoint[] = [];
  if (purpose === 'pull') {
    for (const m of s.mirrors ?? []) {
      const host = /^https?:\/\//.test(m) ? new URL(m).host : m;
      out.push(endpointOf(m, config.registries[host] ?? {}, true));
    }
  }
  const api = s.endpoint ?? (domain === 'docker.io' ? 'registry-1.docker.io' : domain);
  const ep = endpointOf(api, s, false);
  out.push({ ...ep, host: domain });
  return out;
}
