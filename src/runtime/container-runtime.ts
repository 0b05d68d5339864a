// What the engine asks of an OCI runtime: skiff's own (Runtime, in-process) or another runtime's binary run as a
// RuntimeClass handler (OciBinaryRuntime). Both run the container under skiff's native monitor.
import type { CgroupStats } from '../cgroups/index.js';
import type { LinuxResources, Process } from '../oci/runtime-spec.js';
import type { ExecOptions, ExecResult } from './exec.js';
import type { MonitorOptions } from './monitor-setup.js';

export interface MonitoredCreateOptions {
  bundle: string;
  /** Bring `lo` up in a new network namespace (the engine's --network none). */
  loopbackUp?: boolean;
}

/** A container created under its monitor: its init's pid, and the monitor's pid and /proc start time. */
export interface MonitoredContainer {
  pid: number;
  monitor: { pid: number; startTime: string };
}

export interface ContainerRuntime {
  /** The directory that holds one entry per container of this runtime, named by its ID (reconcile sweeps it). */
  readonly stateRoot: string;
  createMonitored(id: string, opts: MonitoredCreateOptions, monitor: MonitorOptions): Promise<MonitoredContainer>;
  start(id: string): Promise<void>;
  /** Whether the container is frozen (paused): its cgroup's freezer, with no process started to ask. */
  frozen(id: string): Promise<boolean>;
  kill(id: string, signal?: string | number, opts?: { all?: boolean }): Promise<void>;
  /** Removes what create made; `force` kills a running container first and succeeds for one already gone. */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  exec(id: string, proc: Process, opts?: ExecOptions): Promise<ExecResult>;
  /** Host pids of every process in the container. */
  pids(id: string): Promise<number[]>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  update(id: string, resources: LinuxResources): Promise<void>;
  stats(id: string): Promise<CgroupStats>;
}
