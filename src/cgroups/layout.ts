// Where the cgroup v1 hierarchies of this host are mounted, and what its cgroup files say it can do.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo } from '../common/mountinfo.js';
import type { CgroupMode } from './types.js';

/** controller name -> mount point, from /proc/self/mountinfo (cgroup v1 mounts only; named ones skipped). */
export function v1Hierarchies(mountinfo?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fstype !== 'cgroup') continue;
    for (const opt of m.superOptions) {
      if (['rw', 'ro'].includes(opt) || opt.includes('=')) continue;
      out.set(opt, m.mountPoint);
    }
  }
  return out;
}

/**
 * Mount points of the named v1 hierarchies (name=systemd): no controller, and skiff manages none of them. Other
 * runtimes' binaries (runc) make a container's cgroup there too.
 */
export function namedHierarchies(mountinfo?: string): string[] {
  return parseMountinfo(mountinfo)
    .filter((m) => m.fstype === 'cgroup' && m.superOptions.some((o) => o.startsWith('name=')))
    .map((m) => m.mountPoint);
}

/**
 * A v1 host's cgroup mounts. On a hybrid host (systemd's default before v2) a cgroup2 hierarchy is also mounted at
 * /sys/fs/cgroup/unified, and a controller no v1 hierarchy has claimed (hugetlb here) is available only there.
 */
export interface V1Layout {
  hierarchies: Map<string, string>;
  /** The hybrid cgroup2 mount, when there is one. */
  unified?: string;
  /** Controllers the hybrid cgroup2 mount offers (its cgroup.controllers). */
  unifiedControllers: string[];
}

export function v1Layout(mode: CgroupMode, root = '/sys/fs/cgroup', hierarchies = v1Hierarchies()): V1Layout {
  const unified = mode === 'hybrid' ? join(root, 'unified') : undefined;
  return { hierarchies, unified, unifiedControllers: unified ? controllersOf(unified) : [] };
}

function controllersOf(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** What the host's cgroups can enforce; validation names what a config asks for beyond it. */
export interface CgroupSupport {
  mode: CgroupMode;
  /** Controllers a container's cgroup can use. */
  controllers: Set<string>;
  /** v1: memory.memsw.* exist only with swap accounting (CONFIG_MEMCG_SWAP, swapaccount=1). */
  swapAccounting: boolean;
  /** v1: memory.kmem.tcp.limit_in_bytes (CONFIG_MEMCG_KMEM); cgroup v2 has no kernel TCP limit of its own. */
  kernelTCP: boolean;
  /** v1: cpu.rt_runtime_us exists only with CONFIG_RT_GROUP_SCHED. */
  rtGroupSched: boolean;
  cpuIdle: boolean;
  cpuBurst: boolean;
  /** v1: blkio.weight (CFQ) or blkio.bfq.weight (BFQ); neither with the mq-deadline or none schedulers. */
  blkioWeight: boolean;
  /** v1: blkio.leaf_weight existed only with CFQ, removed in Linux 5.0. */
  blkioLeafWeight: boolean;
  /** Huge page sizes as hugetlb files name them: "2MB", "1GB". */
  hugepageSizes: string[];
}

/** Huge page sizes from /sys/kernel/mm/hugepages, named as the hugetlb controller names them (mm/hugetlb_cgroup.c). */
export function hugepageSizes(dir = '/sys/kernel/mm/hugepages'): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((n) => /^hugepages-(\d+)kB$/.exec(n)).filter((m) => m !== null)
    .map((m) => Number(m[1])).sort((a, b) => a - b)
    .map((kb) => (kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`));
}

export function detectCgroupSupport(
  mode: CgroupMode, root = '/sys/fs/cgroup', layout?: V1Layout, hugepagesDir?: string,
): CgroupSupport {
  const sizes = hugepageSizes(hugepagesDir);
  if (mode === 'v2') {
    // The root cgroup lacks most interface files, so v2 features beyond the controllers are found when written.
    return {
      mode, controllers: new Set(controllersOf(root)), swapAccounting: true, kernelTCP: false,
      rtGroupSched: false, cpuIdle: true, cpuBurst: true, blkioWeight: true, blkioLeafWeight: false, hugepageSizes: sizes,
    };
  }
  const l = layout ?? v1Layout(mode, root);
  const has = (controller: string, file: string) => {
    const mnt = l.hierarchies.get(controller);
    return mnt !== undefined && existsSync(join(mnt, file));
  };
  return {
    mode,
    controllers: new Set([...l.hierarchies.keys(), ...l.unifiedControllers]),
    swapAccounting: has('memory', 'memory.memsw.limit_in_bytes'),
    kernelTCP: has('memory', 'memory.kmem.tcp.limit_in_bytes'),
    rtGroupSched: has('cpu', 'cpu.rt_runtime_us'),
    cpuIdle: has('cpu', 'cpu.idle'),
    cpuBurst: has('cpu', 'cpu.cfs_burst_us'),
    blkioWeight: has('blkio', 'blkio.weight') || has('blkio', 'blkio.bfq.weight'),
    blkioLeafWeight: has('blkio', 'blkio.leaf_weight'),
    hugepageSizes: sizes,
  };
}
