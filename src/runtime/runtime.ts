// The OCI runtime as a library: every operation skiff-runtime offers, callable in-process by the engine
// (skiff run, skiffd) with no extra process per operation. State lives under `root`, as runc's does.
import { cgroupManager, type CgroupManager, type CgroupStats } from '../cgroups/index.js';
import { SkiffError } from '../common/errors.js';
import type { ContainerStatus, LinuxResources, Process, State } from '../oci/runtime-spec.js';
import { validateProcess } from './validate.js';
import { ContainerStore, DEFAULT_RUNTIME_ROOT, type ContainerRecord, type MonitorRecord } from './container-store.js';
import { createContainer, killAndWait, type CreateOptions, type LaunchMode } from './create.js';
import { execProcess, type ExecOptions, type ExecResult } from './exec.js';
import { releaseExecFifo } from './exec-fifo.js';
import { detectCgroupMode, detectHostFacts, type CgroupMode, type HostFacts } from './host-facts.js';
import { runHooksLoggingFailures } from './hooks.js';
import { withLock } from '../common/lock.js';
import { isSameProcessAlive, waitProcessGone } from './proc.js';
import { readExitFile, type MonitorExit } from './monitor-client.js';
import type { MonitorOptions } from './monitor-setup.js';
import type { ContainerRuntime, MonitoredContainer } from './container-runtime.js';
import { notPaused, notRunning } from './runc-errors.js';
import { parseSignal } from './signals.js';
import { computeStatus, stateDocument } from './status.js';
import { withErrorPrefix } from './error-prefix.js';

export interface RuntimeOptions {
  root?: string;
  /** Where warnings go (poststart/poststop hook failures, skipped seccomp rules). */
  warn?: (message: string) => void;
}

export interface ExitStatus {
  exitCode: number;
  signal?: number;
}

export interface RunOptions extends CreateOptions {
  /** Keep the container's state after it exits (runc run --keep). */
  keep?: boolean;
  /**
   * Called once the container's process has executed its program (after the startContainer hooks), before the
   * poststart hooks and the wait for its exit; not at all if the process ended before.
   */
  onStarted?(): void;
}

export class Runtime implements ContainerRuntime {
  readonly store: ContainerStore;
  private hostFacts?: Promise<HostFacts>;
  private readonly warn: (message: string) => void;

  constructor(opts: RuntimeOptions = {}) {
    this.store = new ContainerStore(opts.root ?? DEFAULT_RUNTIME_ROOT);
    this.warn = opts.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
  }

  get stateRoot(): string {
    return this.store.root;
  }

  host(): Promise<HostFacts> {
    this.hostFacts ??= detectHostFacts();
    return this.hostFacts;
  }

  /** runc create: the container process exists and waits for `start`. */
  async create(id: string, opts: CreateOptions): Promise<State> {
    const { record } = await withErrorPrefix('create', id, async () =>
      createContainer(this.store, await this.host(), id, opts, { kind: 'create' }, this.warn));
    return stateDocument(record, 'created');
  }

  /**
   * Create with a native monitor as the container's parent (docs/monitor.md): it outlives the caller, holds the
   * container's stdio or terminal, writes the CRI log and the exit file, serves attach, runs the exit command.
   * Its pid and start time are in the record (`monitorRunning`). With process.terminal the monitor holds the pty.
   */
  async createMonitored(id: string, opts: CreateOptions, monitor: MonitorOptions): Promise<MonitoredContainer> {
    const mode: LaunchMode = { kind: 'monitor', monitor };
    const { record } = await withErrorPrefix('create', id, async () =>
      createContainer(this.store, await this.host(), id, opts, mode, this.warn));
    return { pid: record.pid, monitor: { pid: record.monitor!.pid, startTime: record.monitor!.startTime } };
  }

  /**
   * runc start: release the process waiting on the exec fifo; once it has executed its program (after the
   * startContainer hooks), run the poststart hooks.
   */
  async start(id: string): Promise<void> {
    await withErrorPrefix('start', id, () => this.locked(id, async (rec) => {
      const status = await this.status(rec);
      if (status !== 'created') throw new SkiffError(`cannot start a container that is ${status}`, 'EINVAL');
      if (!(await releaseExecFifo(this.store.fifoPath(id), rec.pid, rec.pidStartTime, rec.lateSteps))) throw new SkiffError('container process exited before start', 'ESRCH');
      await runHooksLoggingFailures(rec.spec.hooks?.poststart, 'poststart', stateDocument(rec, 'running'), this.warn);
    }));
  }

  /** runc run (foreground): create, start, wait for the exit, delete unless `keep`. */
  async run(id: string, opts: RunOptions): Promise<ExitStatus> {
    const created = await withErrorPrefix('run', id, async () =>
      createContainer(this.store, await this.host(), id, opts, { kind: 'run' }, this.warn));
    const { record, launched } = created;
    try {
      // A process that is gone before it reached the fifo ran no program: its exit says why.
      if (await releaseExecFifo(this.store.fifoPath(id), record.pid, record.pidStartTime, record.lateSteps)) {
        opts.onStarted?.();
        await runHooksLoggingFailures(record.spec.hooks?.poststart, 'poststart', stateDocument(record, 'running'), this.warn);
      }
      const exit = await launched.exit!;
      return { exitCode: exit.exitCode, signal: exit.signal };
    } finally {
      // Also when waiting failed (the helper died): the container must not outlive `run` unless asked to.
      if (!opts.keep) await this.delete(id, { force: true });
    }
  }

  async state(id: string): Promise<State> {
    const rec = await this.store.read(id);
    return stateDocument(rec, await this.status(rec));
  }

  /** Whether the container is frozen (paused): `state` without its check of the process, for a caller that made it. */
  async frozen(id: string): Promise<boolean> {
    return this.isFrozen(await this.store.read(id));
  }

  async list(): Promise<State[]> {
    const states: State[] = [];
    for (const id of await this.store.ids()) {
      try {
        states.push(await this.state(id));
      } catch (err) {
        if ((err as SkiffError).code !== 'ENOENT') throw err;
      }
    }
    return states;
  }

  async kill(id: string, signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    const sig = parseSignal(signal);
    await withErrorPrefix('kill', id, async () => {
      const rec = await this.store.read(id);
      const status = await this.status(rec);
      if (status === 'creating') throw notRunning(status);
      if (opts.all) {
        // As runc 1.1: --all signals whatever the cgroup still holds, also once init has exited (processes of a
        // shared pid namespace outlive it), and with nothing left there is nothing to do. containerd kills every
        // task with --all before deleting it, so this must succeed on a stopped container.
        if (sig === 9 && initKillEndsAll(rec, status)) return signalInit(rec, sig);
        const cgroup = this.cgroup(rec);
        if (status !== 'stopped' || (await cgroup.pids()).length > 0) await cgroup.killAll(sig);
        return;
      }
      if (status === 'stopped') throw notRunning(status);
      signalInit(rec, sig);
    });
  }

  /** runc delete: remove everything create made; a running container needs `force` (then it is killed). */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await withErrorPrefix('delete', id, async () => {
      try {
        await this.locked(id, (rec) => this.deleteLocked(rec, Boolean(opts.force)));
      } catch (err) {
        // Like runc, --force succeeds for a container that is already gone (or was deleted meanwhile).
        if (!(opts.force && (err as SkiffError).code === 'ENOENT')) throw err;
        await this.store.remove(id); // a half-made directory from a killed create
      }
    });
  }

  private async deleteLocked(rec: ContainerRecord, force: boolean): Promise<void> {
    const cgroup = this.cgroup(rec);
    const status = await this.status(rec);
    if ((status === 'running' || status === 'paused') && !force) {
      throw new SkiffError(`cannot delete a ${status} container without --force`, 'EBUSY');
    }
    if (status !== 'stopped') {
      if (!initKillEndsAll(rec, status)) await cgroup.killAll(9);
      await killAndWait(rec.pid, rec.pidStartTime);
    }
    if (!(await waitProcessGone(rec.pid, rec.pidStartTime, 10_000))) {
      throw new SkiffError(`container process ${rec.pid} did not exit`, 'EBUSY');
    }
    await cgroup.destroy();
    await runHooksLoggingFailures(rec.spec.hooks?.poststop, 'poststop', stateDocument(rec, 'stopped'), this.warn);
    // Removed while we hold the lock: a delete waiting behind us then finds nothing, not half a container.
    await this.store.remove(rec.id);
  }

  async exec(id: string, proc: Process, opts: ExecOptions = {}): Promise<ExecResult> {
    return withErrorPrefix('exec', id, async () => {
      const rec = await this.store.read(id);
      const status = await this.status(rec);
      if (status !== 'running' && status !== 'created') throw new SkiffError(`cannot exec in a ${status} container`, 'EINVAL');
      const host = await this.host();
      const userNamespace = rec.spec.linux?.namespaces?.some((n) => n.type === 'user') ?? false;
      return execProcess(host, rec, this.cgroup(rec), validateProcess(proc, 'process', host, { userNamespace }), opts);
    });
  }

  /** Host pids of every process in the container. */
  async pids(id: string): Promise<number[]> {
    const rec = await this.store.read(id);
    return this.cgroup(rec).pids();
  }

  async pause(id: string): Promise<void> {
    await withErrorPrefix('pause', id, () => this.locked(id, async (rec) => {
      const status = await this.status(rec);
      if (status !== 'running' && status !== 'created') throw notRunning(status);
      await this.cgroup(rec).freeze();
    }));
  }

  async resume(id: string): Promise<void> {
    await withErrorPrefix('resume', id, () => this.locked(id, async (rec) => {
      const status = await this.status(rec);
      if (status !== 'paused') throw notPaused(status);
      await this.cgroup(rec).thaw();
    }));
  }

  /** runc update: apply new limits and remember them. */
  async update(id: string, resources: LinuxResources): Promise<void> {
    await withErrorPrefix('update', id, () => this.locked(id, async (rec) => {
      const status = await this.status(rec);
      if (status === 'stopped') throw notRunning(status);
      await this.cgroup(rec).update(resources);
      rec.spec.linux ??= {};
      rec.spec.linux.resources = mergeResources(rec.spec.linux.resources ?? {}, resources);
      await this.store.write(rec);
    }));
  }

  async stats(id: string): Promise<CgroupStats> {
    return this.cgroup(await this.store.read(id)).stats();
  }

  cgroupOf(id: string): Promise<CgroupManager> {
    return this.store.read(id).then((rec) => this.cgroup(rec));
  }

  /** The exit the monitor recorded, once the container has exited (undefined before). */
  async exitStatus(id: string): Promise<MonitorExit | undefined> {
    return readExitFile((await this.monitorOf(id)).exitFile);
  }

  /** Whether the container's monitor process is still there (false once it has finished, or was killed). */
  async monitorRunning(id: string): Promise<boolean> {
    const m = await this.monitorOf(id);
    return isSameProcessAlive(m.pid, m.startTime);
  }

  private async monitorOf(id: string): Promise<MonitorRecord> {
    const rec = await this.store.read(id);
    if (!rec.monitor) throw new SkiffError(`container "${id}" has no monitor; its exit status is its parent's`, 'EINVAL');
    return rec.monitor;
  }

  private async status(rec: ContainerRecord): Promise<ContainerStatus> {
    return computeStatus(rec, this.store.fifoPath(rec.id), () => this.isFrozen(rec));
  }

  private async isFrozen(rec: ContainerRecord): Promise<boolean> {
    return (await this.cgroup(rec).freezerState()) === 'frozen';
  }

  private cgroupMode?: CgroupMode;

  private cgroup(rec: ContainerRecord): CgroupManager {
    this.cgroupMode ??= detectCgroupMode();
    return cgroupManager(rec.cgroupsPath, { mode: this.cgroupMode, warn: this.warn });
  }

  private locked<T>(id: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
    return withLock(this.store.lockPath(id), `container "${id}"`, async () => fn(await this.store.read(id)));
  }
}

function signalInit(rec: ContainerRecord, sig: number): void {
  try {
    process.kill(rec.pid, sig);
  } catch (err) {
    // Init exited since its status was read.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw notRunning('stopped');
    throw err;
  }
}

/**
 * Whether a SIGKILL of init alone ends every process of the container: when the init of a pid namespace dies, the
 * kernel SIGKILLs every other process in it (pid_namespaces(7)), so a container with a pid namespace of its own
 * needs no freeze of its cgroup around a signal to each process. A paused container's processes would not act on
 * the signal until thawed (cgroup v1's freezer), and a shared namespace outlives the container's init.
 */
function initKillEndsAll(rec: ContainerRecord, status: ContainerStatus): boolean {
  if (status !== 'running' && status !== 'created') return false;
  return rec.spec.linux?.namespaces?.some((n) => n.type === 'pid' && !n.path) ?? false;
}

function mergeResources(old: LinuxResources, add: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...old };
  for (const [k, v] of Object.entries(add)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && !Array.isArray(prev) && v && typeof v === 'object' && !Array.isArray(v)
      ? { ...prev, ...v } : v;
  }
  return out as LinuxResources;
}
