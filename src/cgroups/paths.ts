// Where a container's cgroup lives, relative to each hierarchy's root.
import { SkiffError } from '../common/errors.js';

/** The parent of every cgroup skiff makes when config.json does not name an absolute path. */
export const SKIFF_CGROUP_PARENT = '/skiff';

/**
 * linux.cgroupsPath: absolute paths are used as given (relative to each hierarchy's root, as runc does);
 * relative ones and the default go under /skiff. The systemd "slice:prefix:name" form needs a systemd driver.
 */
export function resolveCgroupsPath(cgroupsPath: string | undefined, id: string): string {
  if (!cgroupsPath) return `${SKIFF_CGROUP_PARENT}/${id}`;
  if (/^[^/:]*:[^:]*:[^:]*$/.test(cgroupsPath)) {
    throw new SkiffError(`linux.cgroupsPath "${cgroupsPath}": systemd cgroup paths need --systemd-cgroup, which skiff does not support`, 'ENOTSUP');
  }
  const clean = cgroupsPath.split('/').filter((p) => p && p !== '.');
  if (clean.includes('..')) throw new SkiffError(`linux.cgroupsPath "${cgroupsPath}": ".." is not allowed`, 'EINVAL');
  if (clean.length === 0) throw new SkiffError(`linux.cgroupsPath "${cgroupsPath}": the root cgroup cannot hold a container`, 'EINVAL');
  return cgroupsPath.startsWith('/') ? `/${clean.join('/')}` : `${SKIFF_CGROUP_PARENT}/${clean.join('/')}`;
}

/**
 * The ancestors of `path` that destroy may remove once empty: those inside the /skiff subtree, which skiff
 * creates as needed. A parent elsewhere (an absolute cgroupsPath such as /machine/c1) belongs to someone else.
 */
export function ownedParents(path: string): string[] {
  const out: string[] = [];
  for (let p = path.slice(0, path.lastIndexOf('/')); p === SKIFF_CGROUP_PARENT || p.startsWith(SKIFF_CGROUP_PARENT + '/'); p = p.slice(0, p.lastIndexOf('/'))) {
    out.push(p);
  }
  return out;
}
