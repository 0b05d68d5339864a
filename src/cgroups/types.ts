// One interface over cgroup v1 and v2 (cgroups(7)); each container gets a CgroupManager for its cgroupsPath.
import type { LinuxResources } from '../oci/runtime-spec.js';

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/** The "data" of runc's `events --stats`. */
export interface CgroupStats {
  cpu: {
    usage: { total: number; percpu?: number[]; kernel: number; user: number };
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    cache: number;
    usage: MemoryEntry;
    swap?: MemoryEntry;
    kernel?: MemoryEntry;
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
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

export interface CgroupManager {
  readonly version: 1 | 2;
  /** The resolved cgroups path, e.g. /skiff/c1. */
  readonly path: string;
  /** Makes the cgroup and applies the limits; on failure removes what it made. */
  create(resources?: LinuxResources): Promise<void>;
  addProcess(pid: number): Promise<void>;
  update(resources: LinuxResources): Promise<void>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  freezerState(): Promise<'frozen' | 'thawed'>;
  /** Every process in the cgroup. */
  pids(): Promise<number[]>;
  stats(): Promise<CgroupStats>;
  oomKillCount(): Promise<number>;
  /** Calls `listener` on each new OOM kill; returns the function that stops watching. */
  onOom(listener: () => void): () => void;
  /** Sends `signal` to every process in the cgroup, frozen first so none can fork away. */
  killAll(signal: number): Promise<void>;
  /** Removes the cgroup (and the empty parents we own); idempotent. */
  destroy(): Promise<void>;
}
