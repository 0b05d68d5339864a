// What the runtime can learn from /proc about a namespace that config.json joins by path (an nsfs file: /proc/PID/ns/*
// or a bind mount of one): whether it is the runtime's own, and the id maps of a user namespace.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { LinuxIDMapping } from '../oci/runtime-spec.js';
import { NAMESPACE } from './plan/constants.js';

/** Whether two paths are the same file; false when either cannot be looked at (another user's /proc/PID/ns). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a, { throwIfNoEntry: false });
    const y = statSync(b, { throwIfNoEntry: false });
    return Boolean(x && y && x.dev === y.dev && x.ino === y.ino);
  } catch {
    return false;
  }
}

/**
 * Whether the namespace at `path` is this runtime's own, which is the host's for the container ("host" meaning the
 * runtime's current one, as runc's validator says). A path that cannot be read is left to setns to report.
 */
export function isRuntimeNamespace(path: string, type: string): boolean {
  return path.startsWith('/') && sameFile(path, `/proc/self/ns/${NAMESPACE[type].proc}`);
}

/** uid_map or gid_map (user_namespaces(7)): one "ID-inside ID-outside length" line per range. */
function parseIdMap(text: string): LinuxIDMapping[] {
  return text.split('\n').map((l) => l.trim().split(/\s+/).map(Number)).filter((f) => f.length === 3)
    .map(([containerID, hostID, size]) => ({ containerID, hostID, size }));
}

/** A process in the user namespace at `path`: the one /proc/PID/ns/user names, else any found in /proc. */
function processIn(path: string): string | undefined {
  const named = /^\/proc\/(\d+)\/ns\/user$/.exec(path);
  if (named && sameFile(path, `/proc/${named[1]}/ns/user`)) return named[1];
  return readdirSync('/proc').find((pid) => /^\d+$/.test(pid) && sameFile(path, `/proc/${pid}/ns/user`));
}

/**
 * The id maps of the user namespace at `path`, read from /proc/PID/{uid,gid}_map of a process in it (runc reads them
 * the same way, or joins the namespace to read its own). undefined when no process is in it (a pinned namespace).
 */
export function userNamespaceMaps(path: string): { uid: LinuxIDMapping[]; gid: LinuxIDMapping[] } | undefined {
  const pid = processIn(path);
  if (!pid) return undefined;
  try {
    return { uid: parseIdMap(readFileSync(`/proc/${pid}/uid_map`, 'utf8')), gid: parseIdMap(readFileSync(`/proc/${pid}/gid_map`, 'utf8')) };
  } catch {
    return undefined; // the process exited meanwhile
  }
}
