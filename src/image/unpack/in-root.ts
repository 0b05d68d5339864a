// Path resolution confined to a root directory, the way openat2(RESOLVE_IN_ROOT) does it (openat2(2)): every
// component is lstat'ed, a symlink is followed by splicing its target into the remaining path, an absolute target
// restarts at the root and ".." never climbs above it. A layer or an image can therefore plant any symlink it
// likes: what it names is always looked up inside the root, never on the host.
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

/**
 * Resolves the directory `components` names inside `root` and returns its host path. With `create`, missing
 * directories are made (by the function given, or mode 0755 owned by the caller); without it, a missing one is
 * reported as undefined. `what` names the input for errors ("entry usr/lib/x").
 */
export function resolveDirInRoot(root: string, components: string[], what: string, create: boolean | MakeDir): string | undefined {
  return resolve(root, components, what, create === true ? mkdir755 : create || undefined, false);
}

/**
 * The host path of what `path` names inside `root`, every symlink followed in-root, the last one included (so a
 * reader can open it without following anything itself); undefined if it does not exist.
 */
export function resolvePathInRoot(root: string, path: string, what: string): string | undefined {
  return resolve(root, path.split('/'), what, undefined, true);
}

function resolve(root: string, components: string[], what: string, create: MakeDir | undefined, lastMayBeFile: boolean): string | undefined {
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
    const host = join(root, ...resolved, c);
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
  return join(root, ...resolved);
}
