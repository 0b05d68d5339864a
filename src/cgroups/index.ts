// Picks the cgroup driver for this host's cgroup mode.
import type { CgroupManager, CgroupMode } from './types.js';
import { v1Layout } from './layout.js';
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
    : new CgroupV1(path, v1Layout(facts.mode, root), undefined, facts.warn);
}
