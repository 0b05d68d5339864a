// The engine: the one library the user CLI and skiffd call to own a container's whole life (record, rootfs,
// network, monitor, runtime state, removal). Every entry point first reconciles what it touches with the live
// system (reconcile.ts), and works under the container's lock, so concurrent skiff processes on one store are safe.
import { SkiffError } from '../common/errors.js';
import { randomHex } from '../common/random.js';
import { isSameProcessAlive } from '../runtime/proc.js';
import type { ExecResult } from '../runtime/exec.js';
import { reopenLog, type AttachStreams, type Attachment } from '../runtime/monitor-client.js';
import type { ContainerResources } from './container-config.js';
import type { Spec } from '../oci/runtime-spec.js';
import { resources as specResources } from './container-spec.js';
import { attachContainer } from './container-attach.js';
import { cleanupContainer } from './container-cleanup.js';
import type { CreateRequest } from './container-create.js';
import { execInContainer, type ExecRequest } from './container-exec.js';
import type { ContainerRecord } from './container-record.js';
import { removeLocked } from './container-remove.js';
import { startLocked, type StartOptions } from './container-start.js';
import { afterExit, current, killContainer, stopContainer, waitContainer } from './container-stop.js';
import { viewOf, type ContainerView } from './container-view.js';
import type { CopyOptions, CopyResult, HostEnd } from './container-cp.js';
import { EngineContext, type EngineOptions } from './context.js';
import { topContainer, type TopResult } from './container-top.js';
import { sampleStats, type StatsSample } from './container-stats.js';
import { inspectVolume, listVolumes, pruneVolumes, removeVolume, type VolumeView } from './volume-usage.js';
import type { Volume } from './volumes.js';
import type { DiskUsage } from './system-df.js';
import { readLogs, type LogEntry, type LogOptions } from './logs.js';
import { checkName } from './names.js';
import { logPathOf } from './monitor.js';
import { reconcileAll, reconcileLocked } from './reconcile.js';
import { directorySize } from './volumes.js';
import { HelperZygote, useZygote, useZygoteWhenNeeded } from '../native/zygote.js';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { byCodeUnits } from '../common/compare.js';

export class Engine {
  readonly ctx: EngineContext;

  constructor(opts: EngineOptions) {
    this.ctx = new EngineContext(opts);
  }

  /** The container's full ID from an ID, a unique ID prefix or a name. */
  resolve(ref: string): Promise<string> {
    return this.ctx.records.resolve(ref);
  }

  async create(req: CreateRequest): Promise<ContainerRecord> {
    // Loaded when it runs: making a container brings the image store, the unpacker (zlib, a worker thread) and the
    // seccomp profile, which listing and inspecting do not need (issue 15).
    const { createContainer } = await import('./container-create.js');
    return createContainer(this.ctx, req);
  }

  async start(ref: string, opts: StartOptions = {}): Promise<ContainerRecord> {
    const id = await this.resolve(ref);
    return this.ctx.records.locked(id, async (rec) => {
      const now = await reconcileLocked(this.ctx, rec);
      if (!now) throw new SkiffError(`No such container: ${ref}`, 'ENOENT');
      return startLocked(this.ctx, now, opts);
    });
  }

  /** `signal` replaces the container's stop signal. */
  async stop(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    await stopContainer(this.ctx, await this.resolve(ref), timeoutSec, signal);
  }

  async kill(ref: string, signal?: string | number): Promise<void> {
    await killContainer(this.ctx, await this.resolve(ref), signal);
  }

  /** docker restart: stop (if running), then start; the record, its name and its rootfs changes stay. */
  async restart(ref: string, timeoutSec?: number): Promise<ContainerRecord> {
    const id = await this.resolve(ref);
    await stopContainer(this.ctx, id, timeoutSec);
    return this.start(id);
  }

  async remove(ref: string, o: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const id = await this.resolve(ref);
    const rec = await current(this.ctx, id);
    if (rec.state.status === 'running') {
      if (!o.force) {
        throw new SkiffError(`cannot remove container "${rec.name}": container is running: stop the container before removing or force remove`, 'EBUSY');
      }
      await stopContainer(this.ctx, id, 0, 'SIGKILL');
    }
    await this.ctx.records.locked(id, async (r) => {
      const now = await reconcileLocked(this.ctx, r);
      if (!now) return;
      if (now.state.status === 'running') throw new SkiffError(`container "${now.name}" was started again while being removed`, 'EBUSY');
      await removeLocked(this.ctx, now, { volumes: Boolean(o.volumes) });
    });
  }

  async wait(ref: string): Promise<number> {
    return waitContainer(this.ctx, await this.resolve(ref));
  }

  async inspect(ref: string): Promise<ContainerView> {
    return viewOf(this.ctx, await current(this.ctx, await this.resolve(ref)));
  }

  /** Every container (docker ps -a), reconciled, newest first. */
  /** The runtime spec of the container's last start; undefined before the first. */
  spec(id: string): Spec | undefined {
    return this.ctx.records.spec(id);
  }

  async list(): Promise<ContainerView[]> {
    const recs = await reconcileAll(this.ctx);
    recs.sort((a, b) => byCodeUnits(b.created, a.created));
    return Promise.all(recs.map((r) => viewOf(this.ctx, r)));
  }

  /** docker container prune: every container that is not running removed; what their rootfs changes took. */
  async prune(): Promise<{ removed: string[]; reclaimed: number }> {
    const removed: string[] = [];
    let reclaimed = 0;
    for (const v of await this.list()) {
      if (v.status !== 'exited' && v.status !== 'created') continue;
      const size = directorySize(join(this.ctx.paths.container(v.record.id), 'upper'));
      try {
        await this.remove(v.record.id);
      } catch (err) {
        // Started again meanwhile, or removed by someone else: not ours to prune.
        if (!['EBUSY', 'ENOENT'].includes((err as SkiffError).code)) throw err;
        continue;
      }
      removed.push(v.record.id);
      reclaimed += size;
    }
    return { removed, reclaimed };
  }

  async rename(ref: string, newName: string): Promise<void> {
    const id = await this.resolve(ref);
    const name = checkName(newName, 'rename');
    await this.ctx.records.locked(id, async (rec) => {
      if (rec.name === name) return;
      if (!(await this.ctx.records.reserveName(name, id))) throw new SkiffError(`Error when allocating new name: the name "${name}" is already in use`, 'EEXIST');
      const old = rec.name;
      rec.name = name;
      await this.ctx.records.write(rec);
      await this.ctx.records.releaseName(old, id);
    });
  }

  async *logs(ref: string, o: Omit<LogOptions, 'running'> = {}): AsyncGenerator<LogEntry> {
    const id = await this.resolve(ref);
    const running = async () => {
      const rec = await this.ctx.records.read(id).catch(() => undefined);
      return rec !== undefined && rec.state.status === 'running' && rec.state.pid !== undefined && isSameProcessAlive(rec.state.pid, rec.state.pidStartTime ?? '');
    };
    yield* readLogs(logPathOf(this.ctx, await this.ctx.records.read(id)), { ...o, running });
  }

  async exec(ref: string, req: ExecRequest): Promise<ExecResult> {
    return execInContainer(this.ctx, await this.resolve(ref), req);
  }

  /** Attaches to a running container's monitor; the attachment's `done` settles with its exit. */
  async attach(ref: string, streams: AttachStreams): Promise<Attachment> {
    return attachContainer(this.ctx, await this.resolve(ref), streams);
  }

  /**
   * New limits (docker update, CRI UpdateContainerResources): merged into the config, applied at once to a running
   * container's cgroup, and kept for its next start.
   */
  async update(ref: string, changes: ContainerResources): Promise<void> {
    const id = await this.resolve(ref);
    await this.ctx.records.locked(id, async (r) => {
      const rec = (await reconcileLocked(this.ctx, r)) ?? r;
      const merged = { ...rec.config.resources, ...changes };
      if (rec.state.status === 'running') await this.ctx.runtimeOf(rec).update(id, specResources({ resources: changes }) ?? {});
      rec.config = { ...rec.config, resources: merged };
      await this.ctx.records.write(rec);
    });
  }

  /** Asks a running container's monitor to reopen its log (after the log file was renamed: CRI log rotation). */
  async reopenLog(ref: string): Promise<void> {
    const id = await this.resolve(ref);
    const rec = await current(this.ctx, id);
    if (rec.state.status !== 'running') throw new SkiffError(`container ${rec.name} is not running`, 'EINVAL');
    await reopenLog(this.ctx.paths.attachSocket(id));
  }

  /** The monitor's exit command: take down the run, remove an --rm container, apply the restart policy. */
  async cleanup(id: string): Promise<void> {
    await cleanupContainer(this.ctx, id);
  }

  /** Once a run's process is gone (waiting for it): the run taken down; the record as it ended, undefined if removed. */
  async finish(ref: string): Promise<ContainerRecord | undefined> {
    const id = await this.resolve(ref);
    await waitContainer(this.ctx, id);
    return afterExit(this.ctx, id);
  }

  /** docker cp CONTAINER:SRC DEST|-: to a host path, or as a tar to `stream`. */
  async copyFrom(ref: string, srcPath: string, to: HostEnd<Writable>, o: CopyOptions = {}): Promise<CopyResult> {
    // docker cp's module is loaded when it runs: it brings tar, which no other command of the engine needs (issue 15).
    const { copyFromContainer } = await import('./container-cp.js');
    return copyFromContainer(this.ctx, await this.resolve(ref), ref, srcPath, to, o);
  }

  /** docker cp SRC|- CONTAINER:DEST: from a host path, or a tar read from `stream`. */
  async copyTo(ref: string, destPath: string, from: HostEnd<AsyncIterable<Buffer>>, o: CopyOptions = {}): Promise<CopyResult> {
    const { copyToContainer } = await import('./container-cp.js');
    return copyToContainer(this.ctx, await this.resolve(ref), ref, destPath, from, o);
  }

  /** docker top: the container's processes as the host's ps shows them with `psArgs` (default -ef). */
  async top(ref: string, psArgs: string[] = []): Promise<TopResult> {
    return topContainer(this.ctx, await this.resolve(ref), psArgs);
  }

  /** One sample of a container's usage for docker stats (zeros when it is not running); see statsBetween. */
  async statsSample(view: ContainerView): Promise<StatsSample> {
    return sampleStats(this.ctx, view);
  }

  /**
   * docker volume create: made, or the existing one of that name. Without a name it gets a random one, and is not
   * anonymous (prune without --all keeps it), as docker does.
   */
  async volumeCreate(name: string | undefined, labels: Record<string, string> = {}): Promise<Volume> {
    return (await this.ctx.volumes.create(name ?? randomHex(32), { labels })).volume;
  }

  async volumes(): Promise<VolumeView[]> {
    return listVolumes(this.ctx);
  }

  async volumeInspect(name: string): Promise<VolumeView> {
    return inspectVolume(this.ctx, name);
  }

  async volumeRemove(name: string, o: { force?: boolean } = {}): Promise<void> {
    await removeVolume(this.ctx, name, o);
  }

  async volumePrune(o: { all?: boolean; matches?: (v: VolumeView) => boolean } = {}): Promise<{ removed: string[]; reclaimed: number }> {
    return pruneVolumes(this.ctx, o);
  }

  /** docker system df: what images, containers and volumes take on disk. */
  async diskUsage(): Promise<DiskUsage> {
    // Loaded when it runs: it reads snapshots through the unpacker (zlib, a worker thread), as ps does not (issue 15).
    const { diskUsageOf } = await import('./system-df.js');
    return diskUsageOf(this.ctx);
  }

  /**
   * For a long-lived caller (skiffd): from now on the native helpers and CNI plugins are forked by a zygote
   * (src/native/zygote.ts says why), which listens beside the state. Returns what stops it. A state path too long
   * for a unix socket: no zygote, and they are spawned as before.
   */
  async useHelperZygote(): Promise<() => Promise<void>> {
    const zygote = await HelperZygote.start(this.ctx.paths.helperZygoteSocket);
    useZygote(zygote);
    return async () => {
      useZygote(undefined);
      await zygote?.close();
    };
  }

  /**
   * For a short-lived caller (the skiff CLI): the same, but the zygote starts with the first process started, and
   * listens on a name of this process's own in the abstract namespace. It ends with the caller (EOF on its stdin).
   */
  useHelperZygoteWhenNeeded(): void {
    useZygoteWhenNeeded(() => HelperZygote.start(`\0skiff-helpers-${process.pid}-${randomHex(8)}`));
  }
}
