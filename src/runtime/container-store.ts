// Where a container's runtime state lives: <root>/<id>/ (like runc's /run/runc/<id>/).
//   state.json   what create recorded (atomic writes)
//   exec.fifo    exists from create until start
//   lock         serializes commands on this container
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic-write.js';
import { readSmallFile } from '../common/read-small.js';
import { SkiffError } from '../common/errors.js';
import type { Step } from '../native/step.js';
import type { Spec } from '../oci/runtime-spec.js';

export const DEFAULT_RUNTIME_ROOT = '/run/skiff-runtime';

/** What create records; the status is computed from it and the live system, never stored. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  /** Host pid of the container's init process, 0 until it exists. */
  pid: number;
  /** /proc/PID/stat start time of that process, to tell it from a recycled pid. */
  pidStartTime: string;
  created: string;
  /** Resolved cgroups path, e.g. /skiff/c1. */
  cgroupsPath: string;
  /** The validated config.json as it was at create (hooks, namespaces, resources after update). */
  spec: Spec;
  /** True while create is still running. */
  creating: boolean;
  /** The container's monitor, for one created by Runtime.createMonitored (docs/monitor.md). */
  monitor?: MonitorRecord;
  /**
   * The plan's steps after `ready` (exec-wait, startContainer hooks, a late seccomp filter, exec) by their index, as
   * far as an error names them: a failure there comes back through the exec fifo to `start` (exec-fifo.ts).
   */
  lateSteps?: { first: number; steps: Step[] };
  /** Created with --no-new-keyring: exec'd processes then keep the caller's session keyring too. */
  noNewKeyring?: boolean;
}

export interface MonitorRecord {
  /** Host pid of the monitor process and its /proc/PID/stat start time: alive while both still match. */
  pid: number;
  startTime: string;
  exitFile: string;
  logPath: string;
  attachSocket?: string;
}

const ID_PATTERN = /^[\w+\-.]+$/;

export class ContainerStore {
  constructor(readonly root: string = DEFAULT_RUNTIME_ROOT) {}

  static checkId(id: string): void {
    if (!id) throw new SkiffError('container id cannot be empty', 'EINVAL');
    if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
      throw new SkiffError(`invalid container id "${id}": only letters, digits, _ + - . are allowed`, 'EINVAL');
    }
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  fifoPath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  lockPath(id: string): string {
    return join(this.dir(id), 'lock');
  }

  /** Makes the container's directory; fails if the id is taken. */
  async claim(id: string): Promise<void> {
    ContainerStore.checkId(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new SkiffError(`container "${id}" already exists`, 'EEXIST');
      }
      throw err;
    }
  }

  /**
   * Runtime state is lost on reboot by design (as runc's), so it is written atomically but not fsynced; like the
   * rest of the store, synchronously (a few KiB on tmpfs).
   */
  async write(rec: ContainerRecord): Promise<void> {
    writeFileAtomicSync(join(this.dir(rec.id), 'state.json'), JSON.stringify(rec), 0o600, false);
  }

  /**
   * Reads are synchronous: a state file of a few KiB on tmpfs reads in microseconds, a trip through libuv's thread
   * pool costs ~0.3 ms, and `list` reads every container's.
   */
  async read(id: string): Promise<ContainerRecord> {
    ContainerStore.checkId(id);
    let text: string;
    try {
      text = readSmallFile(join(this.dir(id), 'state.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new SkiffError(`container "${id}" does not exist`, 'ENOENT');
      }
      throw err;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  async ids(): Promise<string[]> {
    try {
      const entries = readdirSync(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && ID_PATTERN.test(e.name)).map((e) => e.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Renames the directory away first (atomic), so a command waiting for the lock finds the container gone at once
   * instead of racing the recursive removal; the tombstone name holds a character ids cannot.
   */
  async remove(id: string): Promise<void> {
    const tombstone = `${this.dir(id)}~deleted-${process.pid}-${Date.now()}`;
    try {
      renameSync(this.dir(id), tombstone);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    rmSync(tombstone, { recursive: true, force: true, maxRetries: 5 });
  }
}
