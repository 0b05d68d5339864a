// Global flags of skiff-runtime (runc's): --root, --log, --log-format, --debug, --systemd-cgroup.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { DEFAULT_RUNTIME_ROOT } from '../../runtime/container-store.js';
import { Runtime } from '../../runtime/runtime.js';
import { logLine, type GlobalOptions } from './log.js';

export { logLine, type GlobalOptions };

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
