// Global flags of skiff-runtime (runc's): --root, --log, --log-format, --debug, --systemd-cgroup.
import { appendFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { DEFAULT_RUNTIME_ROOT } from '../../runtime/container-store.js';
import { Runtime } from '../../runtime/runtime.js';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
  systemdCgroup?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as GlobalOptions;
  if (o.logFormat !== 'text' && o.logFormat !== 'json') {
    throw new SkiffError(`--log-format: must be "text" or "json", not "${o.logFormat}"`, 'EINVAL');
  }
  if (o.systemdCgroup) {
    throw new SkiffError('--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs (drop the flag)', 'ENOTSUP');
  }
  return o;
}

/** Writes a line to --log the way runc does (containerd and conmon read the last error from it). */
export function logLine(o: GlobalOptions, level: 'debug' | 'info' | 'warning' | 'error', msg: string): void {
  if (!o.log) {
    if (level === 'warning') process.stderr.write(`warning: ${msg}\n`);
    return;
  }
  if (level === 'debug' && !o.debug) return;
  const time = new Date().toISOString();
  const line = o.logFormat === 'json'
    ? JSON.stringify({ level, msg, time }) + '\n'
    : `time="${time}" level=${level} msg="${msg.replace(/"/g, '\\"')}"\n`;
  appendFileSync(o.log, line);
}

export function runtimeFor(cmd: Command): Runtime {
  const o = globals(cmd);
  return new Runtime({ root: o.root ?? DEFAULT_RUNTIME_ROOT, warn: (m) => logLine(o, 'warning', m) });
}

/** Parses a non-negative integer flag value, naming the flag when it is not one. */
export function intFlag(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new SkiffError(`${flag}: "${value}" is not a non-negative integer`, 'EINVAL');
    return Number(value);
  };
}
