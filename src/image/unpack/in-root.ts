// Path resolution confined to a root directory, the way openat2(RESOLVE_IN_ROOT) does it (openat2(2)): every
// component is lstat'ed, a symlink is followed by splicing its target into the remaining path, an absolute target
// restarts at the root and ".." never climbs above it. A layer or an image can therefore plant any symlink it
// likes: what it names is always looked up inside the root, never on the host. The root may also be a view made
// of several host directories (a container's rootfs with its volumes and bind mounts at their mount points).
import { lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';

/** path_resolution(7): more than 40 symlinks in one lookup is ELOOP. */
const MAX_SYMLINKS = 40;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Makes the missing directory `host` (at `inRoot` inside the root), or says to follow a symlink instead: a layer's
 * missing parent may be a symlink in a lower layer (lower-view.ts).
 */
export type MakeDir = (host: string, inRoot: string[]) => { follow: string } | undefined;

const mkdir755: MakeDir = (host) => {
  mkdirSync(host, 0o755);
  return undefined;
};

/** Where a path inside the root (its components, symlinks resolved) is on the host. */
export type HostPathOf = (inRoot: string[]) => string;

/**
 * Resolves the directory `components` names inside `root` and returns its host path. With `create`, missing
 * directories are made (by the function given, or mode 0755 owned by the caller); without it, a missing one is
 * reported as undefined. `what` names the input for errors ("entry usr/lib/x").
 */
export function resolveDirInRoot(root: string, components: string[], what: string, create: boolean | MakeDir): string | undefined {
  const inRoot = resolveInView((parts) => join(root, ...parts), components, what, create === true ? mkdir755 : create || undefined, false);
  return inRoot && join(root, ...inRoot);
}

/**
 * The host path of what `path` names inside `root`, every symlink followed in-root, the last one included (so a
 * reader can open it without following anything itself); undefined if it does not exist.
 */
export function resolvePathInRoot(root: string, path: string, what: string): string | undefined {
  const inRoot = resolveInView((parts) => join(root, ...parts), path.split('/'), what, undefined, true);
  return inRoot && join(root, ...inRoot);
}

/**
 * The components inside the root that `components` resolves to (no symlink left, every one followed in-root),
 * looked up on the host through `hostOf`; undefined if something is missing and `create` does not make it. Only the
 * last component may be other than a directory, and only if `lastMayBeFile`.
 */
export function resolveInView(hostOf: HostPathOf, components: string[], what: string, create: MakeDir | undefined, lastMayBeFile: boolean): string[] | undefined {
  let resolved: string[] = [];
  const pending = [...components];
  let symlinks = 0;
  const follow = (target: string) => {
    if (++symlinks > MAX_SYMLINKS) throw new SkiffError(`${what}: too many levels of symbolic links`, 'ELOOP');
    if (target.startsWith('/')) resolved = [];
    pending.unshift(...target.split('/'));
  };
  while (pending.length) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      resolved.pop();
      continue;
    }
    const host = hostOf([...resolved, c]);
    const st = lstatOrUndefined(host);
    if (!st) {
      if (!create) return undefined;
      const made = create(host, [...resolved, c]);
      if (made) follow(made.follow);
      else resolved.push(c);
      continue;
    }
    if (st.isSymbolicLink()) {
      follow(readlinkSync(host));
      continue;
    }
    if (!st.isDirectory() && !(lastMayBeFile && pending.length === 0)) throw new SkiffError(`${what}: /${[...resolved, c].join('/')} is not a directory`, 'ENOTDIR');
    resolved.push(c);
  }
  return resolved;
}
