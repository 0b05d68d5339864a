// A container's files as cp sees them, the way docker's daemon does: its rootfs, and over it its volumes, bind
// mounts and hosts files at their mount points (a tmpfs is in the container's memory and cannot be reached).
// While cp works the container's lock is held (no start, stop or rm meanwhile), a stopped container's rootfs is
// mounted, and a running one is paused: with none of its processes running, none can swap a directory for a symlink
// between our resolving a path and using it (CVE-2018-15664, which docker closes the same way). A skiff killed
// meanwhile leaves the rootfs mount and the pause to reconciliation (cp-pause.ts).
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { mountRootfs, rootfsPath, rootfsStatus, unmountRootfs } from '../image/rootfs.js';
import { resolveInView } from '../image/unpack/in-root.js';
import type { Spec } from '../oci/runtime-spec.js';
import { processAlive } from './container-exit.js';
import { containerFiles } from './container-files.js';
import { pauseForCopy } from './cp-pause.js';
import type { ContainerRecord } from './container-record.js';
import type { EngineContext } from './context.js';
import type { FsView } from './fs-view.js';
import { reconcileLocked } from './reconcile.js';

interface ViewMount {
  /** The mount point inside the container, symlinks resolved as the runtime resolved them when mounting. */
  target: string[];
  /** The host directory or file mounted there; undefined for a tmpfs. */
  source?: string;
  readOnly: boolean;
}

const startsWith = (parts: string[], prefix: string[]) => prefix.length <= parts.length && prefix.every((p, i) => parts[i] === p);

export class ContainerFsView implements FsView {
  readonly owner: { uid: number; gid: number };
  private readonly mounts: ViewMount[] = [];

  constructor(readonly rec: ContainerRecord, spec: Spec | undefined, private readonly rootfs: string, hostFiles: { hosts: string; resolvConf: string; hostname: string }, volumePath: (name: string) => string) {
    // Without -a, what cp writes belongs to the container's root, as docker does it (mapped, in a user namespace).
    const map = (m: { containerID: number; hostID: number; size: number }[] | undefined) => m?.find((x) => x.containerID === 0)?.hostID ?? 0;
    this.owner = { uid: map(spec?.linux?.uidMappings), gid: map(spec?.linux?.gidMappings) };
    const cfg = rec.config;
    const targets = new Set(cfg.mounts.map((m) => posix.normalize(m.target)));
    const files = cfg.shared?.files ?? hostFiles;
    for (const [target, source] of [['/etc/hosts', files.hosts], ['/etc/resolv.conf', files.resolvConf], ['/etc/hostname', files.hostname]]) {
      // Written at the first start: a container never started has the image's.
      if (!targets.has(target) && existsSync(source)) this.add(target, source, false);
    }
    for (const m of cfg.mounts) {
      this.add(m.target, m.type === 'bind' ? m.source : m.type === 'volume' ? volumePath(m.source!) : undefined, m.readOnly);
    }
  }

  show(path: string): string {
    return `${this.rec.name}:${path}`;
  }

  /**
   * A mount point is resolved in what the mounts before it make, as the runtime mounted them in that order, and made
   * where missing as the runtime makes it at a start (a directory, or an empty file for a file): a container that
   * never ran has no /data for its volume yet.
   */
  private add(target: string, source: string | undefined, readOnly: boolean): void {
    const parts = posix.normalize(target).split('/').filter(Boolean);
    const what = `${this.show(target)} (a mount point)`;
    const dir = resolveInView(this.hostOf, parts.slice(0, -1), what, source === undefined ? undefined : (host) => { mkdirSync(host, 0o755); return undefined; }, false);
    const at = [...(dir ?? parts.slice(0, -1)), parts[parts.length - 1]];
    const host = this.hostOf(at);
    if (source !== undefined && !existsSync(host)) {
      if (statSync(source).isDirectory()) mkdirSync(host, 0o755);
      else closeSync(openSync(host, 'wx', 0o644));
    }
    this.mounts.push({ target: at, source, readOnly });
  }

  /** The mount that shows `parts`: the deepest one over it (the last one made, at equal depth). */
  private mountOf(parts: string[], withTmpfs: boolean): ViewMount | undefined {
    let best: ViewMount | undefined;
    for (const m of this.mounts) {
      if ((withTmpfs || m.source !== undefined) && startsWith(parts, m.target) && m.target.length >= (best?.target.length ?? 0)) best = m;
    }
    return best;
  }

  readonly hostOf = (parts: string[]): string => {
    // Under a tmpfs, what the host has is the rootfs's directory beneath it (docker's view shows the same).
    const m = this.mountOf(parts, false);
    return m ? join(m.source!, ...parts.slice(m.target.length)) : join(this.rootfs, ...parts);
  };

  mountsIn(dir: string[]): string[] {
    return this.mounts.filter((m) => m.source !== undefined && m.target.length === dir.length + 1 && startsWith(m.target, dir)).map((m) => m.target[dir.length]);
  }

  isMountPoint(parts: string[]): boolean {
    return this.mounts.some((m) => m.source !== undefined && m.target.length === parts.length && startsWith(parts, m.target));
  }

  checkReachable(parts: string[]): void {
    const m = this.mountOf(parts, true);
    if (m && m.source === undefined) {
      throw new SkiffError(`${this.show(`/${m.target.join('/')}`)} is a tmpfs: its files are in the container's memory, which cp cannot reach (use skiff exec with tar)`, 'EINVAL');
    }
  }

  checkWritable(parts: string[]): void {
    this.checkReachable(parts);
    const m = this.mountOf(parts, false);
    if (m?.readOnly) throw new SkiffError(`${this.show(`/${m.target.join('/')}`)}: mounted volume is marked read-only`, 'EROFS');
    if (!m && this.rec.config.readOnlyRootfs) throw new SkiffError(`${this.show(`/${parts.join('/')}`)}: container rootfs is marked read-only`, 'EROFS');
  }
}

/**
 * Runs `fn` on the container's files: under its lock, its rootfs mounted if it was not, paused if it runs (and
 * not paused already). Everything is put back as it was afterwards, whatever `fn` did.
 */
export async function withContainerFs<T>(ctx: EngineContext, id: string, fn: (view: ContainerFsView) => Promise<T>): Promise<T> {
  // fn's own errors travel outside the lock as values: locked() takes any ENOENT for a vanished container.
  const outcome = await ctx.records.locked(id, async (locked): Promise<{ value: T } | { error: unknown }> => {
    const rec = await reconcileLocked(ctx, locked);
    if (!rec) throw new SkiffError(`No such container: ${id}`, 'ENOENT');
    if (rec.state.status === 'removing') throw new SkiffError(`container ${rec.name} is being removed`, 'EINVAL');
    const undo: (() => Promise<void>)[] = [];
    let result: { value: T } | { error: unknown };
    try {
      if (rec.state.status === 'running') await pause(ctx, rec, undo);
      if (!rootfsStatus(ctx.paths.root, id)?.live) {
        await mountRootfs(ctx.paths.root, id);
        undo.push(() => unmountRootfs(ctx.paths.root, id));
      }
      const view = new ContainerFsView(rec, ctx.records.spec(id), rootfsPath(ctx.paths.root, id), containerFiles(ctx.paths.container(id)), (n) => ctx.volumes.mountpoint(n));
      result = { value: await fn(view) };
    } catch (err) {
      result = { error: err };
    }
    const failures: string[] = [];
    for (const step of undo.reverse()) await step().catch((err: Error) => failures.push(err.message));
    // Not a warning: a container left paused, or a mount left behind, is something the user must hear about.
    if (failures.length) {
      const first = 'error' in result ? `${(result.error as Error).message}; ` : '';
      return { error: new SkiffError(`${first}container ${rec.name}: putting it back after cp: ${failures.join('; ')}`, 'EIO') };
    }
    return result;
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

async function pause(ctx: EngineContext, rec: ContainerRecord, undo: (() => Promise<void>)[]): Promise<void> {
  if (await ctx.runtimeOf(rec).frozen(rec.id)) return;
  let resume: () => Promise<void>;
  try {
    resume = await pauseForCopy(ctx, rec);
  } catch (err) {
    // Exited in the meantime: nothing runs, so nothing can race; the exit is handled once we let go of the lock.
    if (!(await processAlive(rec))) return;
    throw new SkiffError(`container ${rec.name}: cannot pause it to copy safely: ${(err as Error).message}`, 'EIO');
  }
  undo.push(resume);
}
