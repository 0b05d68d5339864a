// skiffd's configuration: a JSON file (default /etc/skiff/skiffd.json; no file there is all defaults), then the
// command line's flags over it. Every key is checked before anything starts, and every bad one is named in one
// error line (`/etc/skiff/skiffd.json: streamingAddress: "x" is not IP:PORT; logLevel: ...`). Example:
//
//   {
//     "socket": "/run/skiff/skiffd.sock",
//     "root": "/var/lib/skiff", "state": "/run/skiff",
//     "cniConfDir": "/etc/cni/net.d", "cniBinDirs": ["/usr/lib/cni", "/opt/cni/bin"],
//     "streamingAddress": "127.0.0.1:0",
//     "registries": "/var/lib/skiff/registries.json",
//     "cgroupParent": "/skiff",
//     "runtimeHandlers": { "runc": { "binary": "/usr/sbin/runc" }, "crun": { "binary": "/usr/bin/crun" } },
//     "logLevel": "info"
//   }
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { ValidationError, type Problem } from '../common/errors.js';
import { isExecutableFile } from '../common/executable.js';
import { registriesConfigPath } from '../image/registry/hosts.js';
import { DEFAULT_PLUGIN_DIRS } from '../network/cni/plugin-exec.js';
import { SYSTEM_CONF_DIR } from '../network/networks.js';

export const DEFAULT_CONFIG_FILE = '/etc/skiff/skiffd.json';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SkiffdConfig {
  /** The gRPC unix socket's path (the endpoint is unix://PATH). */
  socket: string;
  /** Persistent data (images, containers, pods), as the skiff CLI's --root. */
  root: string;
  /** Runtime state, lost on reboot, as the skiff CLI's --state. */
  state: string;
  /** Where the pod network's CNI configuration is (NetworkReady while one is there). */
  cniConfDir: string;
  /** Where CNI plugin binaries are looked for, in order. */
  cniBinDirs: string[];
  /** The streaming server's IP:PORT (port 0: a free one); exec, attach and port-forward URLs point there. */
  streamingAddress: string;
  /** The image store's registries.json (mirrors, insecure registries, CAs). */
  registries: string;
  /**
   * The cgroup all pods go under (cgroupfs syntax): a request's cgroup_parent is nested below it, and a pod without
   * one gets pods/NAMESPACE_NAME_UID there.
   */
  cgroupParent: string;
  /**
   * RuntimeClass handlers besides the default "": each names another OCI runtime's binary (containerd's BinaryName)
   * that runs the pod's containers under skiff's monitor. The pod's pause process stays skiff's own.
   */
  runtimeHandlers: Record<string, { binary: string }>;
  logLevel: LogLevel;
}

/** The flags of `skiffd`, each overriding its key of the file. */
export type ConfigOverrides = Partial<SkiffdConfig>;

/** The skiff CLI's defaults (src/cli/skiff/context.ts), so both see the same images and containers. */
export function defaultConfig(root = '/var/lib/skiff', state = '/run/skiff'): SkiffdConfig {
  return {
    socket: join(state, 'skiffd.sock'), root, state, cniConfDir: SYSTEM_CONF_DIR, cniBinDirs: [...DEFAULT_PLUGIN_DIRS],
    streamingAddress: '127.0.0.1:0', registries: registriesConfigPath(root), cgroupParent: '/skiff',
    runtimeHandlers: {}, logLevel: 'info',
  };
}

const KEYS: readonly (keyof SkiffdConfig)[] = ['socket', 'root', 'state', 'cniConfDir', 'cniBinDirs', 'streamingAddress', 'registries', 'cgroupParent', 'runtimeHandlers', 'logLevel'];

/** A RuntimeClass handler is a DNS label (Kubernetes validates RuntimeClass.handler so). */
const HANDLER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** host:port with an IP literal ([v6]:port for IPv6) and a port from 0 (any free one) to 65535. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  if (!m || !host || !isIP(host) || Number(m[3]) > 65535) return undefined;
  return { host, port: Number(m[3]) };
}

/**
 * Reads the file (`explicit`: the user named it, so it must exist) and lays `overrides` over it; a bad value from a
 * flag is named by the flag (`flagOf(key)`). Root and state given anywhere move the defaults that live under them
 * (the socket, registries.json).
 */
export function loadConfig(file: string, explicit: boolean, overrides: ConfigOverrides = {}, flagOf: (key: string) => string = (k) => k): SkiffdConfig {
  let raw: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || explicit) throw new ValidationError(file, [{ path: '(file)', message: (err as Error).message }]);
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(file, [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
    }
    if (!isObject(parsed)) throw new ValidationError(file, [{ path: '(file)', message: 'must be a JSON object' }]);
    raw = parsed;
  }
  const flagged = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged: Record<string, unknown> = { ...raw, ...flagged };
  try {
    return validateConfig(merged, text === undefined ? 'skiffd' : file);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const named = err.problems.map((p) => (p.path in flagged ? { ...p, path: `${flagOf(p.path)} (${p.path})` } : p));
    throw new ValidationError(err.source, named);
  }
}

export function validateConfig(raw: Record<string, unknown>, source: string): SkiffdConfig {
  const problems: Problem[] = [];
  for (const key of Object.keys(raw)) {
    if (!(KEYS as readonly string[]).includes(key)) problems.push({ path: key, message: `unknown key (known: ${KEYS.join(', ')})` });
  }
  const path = (key: keyof SkiffdConfig): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !isAbsolute(v)) {
      problems.push({ path: key, message: `${JSON.stringify(v)} is not an absolute path` });
      return undefined;
    }
    return v;
  };
  const root = path('root');
  const state = path('state');
  const out = defaultConfig(root, state);
  for (const key of ['socket', 'cniConfDir', 'registries'] as const) out[key] = path(key) ?? out[key];
  if (raw.cniBinDirs !== undefined) {
    const dirs = raw.cniBinDirs;
    if (!Array.isArray(dirs) || dirs.length === 0 || dirs.some((d) => typeof d !== 'string' || !isAbsolute(d))) {
      problems.push({ path: 'cniBinDirs', message: 'must be a non-empty array of absolute paths' });
    } else out.cniBinDirs = dirs as string[];
  }
  if (raw.streamingAddress !== undefined) {
    if (typeof raw.streamingAddress !== 'string' || !parseHostPort(raw.streamingAddress)) {
      problems.push({ path: 'streamingAddress', message: `${JSON.stringify(raw.streamingAddress)} is not IP:PORT (e.g. 127.0.0.1:0, [::1]:10010)` });
    } else out.streamingAddress = raw.streamingAddress;
  }
  if (raw.cgroupParent !== undefined) {
    const c = raw.cgroupParent;
    if (typeof c !== 'string' || !c.startsWith('/') || c.split('/').some((p) => p === '..' || p === '.')) {
      problems.push({ path: 'cgroupParent', message: `${JSON.stringify(c)} is not a cgroupfs path (e.g. /skiff)` });
    } else out.cgroupParent = c;
  }
  if (raw.runtimeHandlers !== undefined) out.runtimeHandlers = runtimeHandlers(raw.runtimeHandlers, problems);
  if (raw.logLevel !== undefined) {
    if (!(LOG_LEVELS as readonly unknown[]).includes(raw.logLevel)) problems.push({ path: 'logLevel', message: `${JSON.stringify(raw.logLevel)} is not one of ${LOG_LEVELS.join(', ')}` });
    else out.logLevel = raw.logLevel as LogLevel;
  }
  if (problems.length) throw new ValidationError(source, problems);
  return out;
}

function runtimeHandlers(raw: unknown, problems: Problem[]): SkiffdConfig['runtimeHandlers'] {
  const out: SkiffdConfig['runtimeHandlers'] = {};
  if (!isObject(raw)) {
    problems.push({ path: 'runtimeHandlers', message: 'must be an object of handler names to { "binary": PATH }' });
    return out;
  }
  for (const [name, h] of Object.entries(raw)) {
    const at = `runtimeHandlers.${name}`;
    if (!HANDLER_NAME.test(name)) problems.push({ path: at, message: 'a handler name is a DNS label (lower-case letters, digits and -; "" is the default handler, skiff\'s own runtime)' });
    else if (!isObject(h)) problems.push({ path: at, message: 'must be { "binary": PATH }' });
    else {
      for (const key of Object.keys(h)) if (key !== 'binary') problems.push({ path: `${at}.${key}`, message: 'unknown key (known: binary)' });
      const binary = h.binary;
      if (typeof binary !== 'string' || !isAbsolute(binary)) problems.push({ path: `${at}.binary`, message: `${JSON.stringify(binary)} is not an absolute path` });
      else if (!isExecutableFile(binary)) problems.push({ path: `${at}.binary`, message: `${binary} is not an executable file` });
      else out[name] = { binary };
    }
  }
  return out;
}
