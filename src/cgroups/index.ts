// Picks the cgroup driver for this host's cgroup mode.
import type { CgroupManager, CgroupMode } from './types.js';
import { namedHierarchies, v1Layout, type V1Layout } from './layout.js';
import { removeCgroupDir } from './fs.js';
import { CgroupV1 } from './v1.js';
import { CgroupV2 } from './v2.js';

export type { BlkioEntry, CgroupManager, CgroupMode, CgroupStats, HugetlbEntry, MemoryEntry } from './types.js';
export { detectCgroupSupport, type CgroupSupport } from './layout.js';
export { resolveCgroupsPath, SKIFF_CGROUP_PARENT } from './paths.js';
export { validateResources } from './validate.js';

/**
 * The manager of the cgroup at `path` (a resolved cgroupsPath such as /skiff/c1) under the hierarchies at `root`.
 * `warn` hears of resources accepted and not applied (ignoredResources) when limits are created or updated.
 */
export function cgroupManager(
  path: string, facts: { mode: CgroupMode; warn?: (message: string) => void }, root = '/sys/fs/cgroup',
): CgroupManager {
  return facts.mode === 'v2'
    ? new CgroupV2(path, root, undefined, facts.warn)
    : new CgroupV1(path, layoutOf(facts.mode, root), undefined, facts.warn);
}

/**
 * The v1 layout, read once per process and root: the hierarchies are mounted at boot and stay, and parsing
 * mountinfo for every container made `skiff-runtime list` of 50 containers spend 18 ms on it.
 */
const layouts = new Map<string, V1Layout>();
function layoutOf(mode: CgroupMode, root: string): V1Layout {
  const key = `${mode}:${root}`;
  let layout = layouts.get(key);
  if (!layout) layouts.set(key, layout = v1Layout(mode, root));
  return layout;
}

/**
 * Removes `path` (and the parents under /skiff it leaves empty) from the named hierarchies, where another runtime's
 * binary made it beside the controllers' hierarchies and, on delete, removed only the container's own directory.
 * What still holds a cgroup or a process stays.
 */
export async function removeFromNamedHierarchies(path: string): Promise<void> {
  for (const mount of namedHierarchies()) await removeCgroupDir(mount, path).catch(() => {});
}
