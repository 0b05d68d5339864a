// Picks the cgroup driver for this host and resolves a container's cgroups path.
import { SkiffError } from '../common/errors.js';
import type { CgroupManager, CgroupMode } from './types.js';
import { CgroupV1 } from './v1.js';
import { CgroupV2 } from './v2.js';

export type { CgroupManager, CgroupMode, CgroupStats } from './types.js';

/** The parent of every cgroup skiff makes when config.json does not name an absolute path. */
export const SKIFF_CGROUP_PARENT = '/skiff';

export function cgroupManager(path: string, facts: { mode: CgroupMode }, root = '/sys/fs/cgroup'): CgroupManager {
  return facts.mode === 'v2' ? new CgroupV2(path, root) : new CgroupV1(path);
}

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
