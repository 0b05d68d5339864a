// One interface over cgroup v1 and v2 (cgroups(7)); each container gets a CgroupManager for its cgroupsPath.
import type { LinuxResources } from '../oci/runtime-spec.js';

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/**
 * The "data" of runc's `events --stats` (runc types/events.go), with the same JSON names.
 * Byte and nanosecond counters are numbers; a limit the kernel reports as unlimited is -1.
 */
export interface CgroupStats {
  cpu: {
    usage: { total: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    cache: number;
    usage: MemoryEntry;
    swap?: MemoryEntry;
    kernel?: MemoryEntry;
    kernelTCP?: MemoryEntry;
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
  /** Keyed by page size as the cgroup files name it ("2MB", "1GB"). */
  hugetlb: Record<string, HugetlbEntry>;
}

export interface MemoryEntry {
  limit: number;
  usage: number;
  max: number;
  failcnt: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface HugetlbEntry {
  usage: number;
  max: number;
  failcnt: number;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** The resolved cgroups path, e.g. /skiff/c1. */
  readonly path: string;
  /** Makes the cgroup and applies the limits; on failure removes what it made. */
  create(resources?: LinuxResources): Promise<void>;
  /** Moves `pid` into the cgroup (in every hierarchy on v1). */
  addProcess(pid: number): Promise<void>;
  /**
   * The files a single-threaded process writes "0" to, to move itself into the cgroup, each the `tasks` file of a
   * v1 hierarchy; undefined where there is no such way (cgroup v2, and the cgroup2 part of a hybrid host). The
   * kernel moves a thread that writes 0 to `tasks` without the global cgroup_threadgroup_rwsem, whose writers
   * (every cgroup.procs write, addProcess) first wait for an RCU grace period: 5-20 ms on this host.
   */
  selfJoinFiles(): string[] | undefined;
  /** Changes the limits of a live cgroup, as `runc update`: only the fields given are written. */
  update(resources: LinuxResources): Promise<void>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  freezerState(): Promise<'frozen' | 'thawed'>;
  /** Every process in the cgroup. */
  pids(): Promise<number[]>;
  stats(): Promise<CgroupStats>;
  /** How many processes the kernel's OOM killer has killed in this cgroup. */
  oomKillCount(): Promise<number>;
  /** The file with that count as an `oom_kill N` line (v1 memory.oom_control, v2 memory.events); undefined
   * without a memory controller. */
  oomKillFile(): string | undefined;
  /** Calls `listener` on each new OOM kill; returns the function that stops watching. */
  onOom(listener: () => void): () => void;
  /** Sends `signal` to every process in the cgroup, frozen first so none can fork away. */
  killAll(signal: number): Promise<void>;
  /** Removes the cgroup (and the parents under /skiff it leaves empty); idempotent. */
  destroy(): Promise<void>;
}
