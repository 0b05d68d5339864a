// A container's root filesystem under <root>/containers/<id>/: an overlay of the image's layer directories
// (overlayfs.rst) with the container's own upper and work directories, or, where overlay cannot be mounted (an
// upper directory on overlayfs itself, a kernel without it), a plain copy of the merged layers, said so on stderr.
// Node cannot mount, so the native helper runs a short plan in our own mount namespace.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { MNT_DETACH, MS } from '../common/linux-flags.js';
import { foreignMountAt, mountsAt } from '../common/mountinfo.js';
import { UndoStack } from '../common/undo.js';
import { launch } from '../native/launcher.js';
import { step, type Step } from '../native/step.js';
import { snapshotPath, snapshotsRecord } from './snapshots.js';
import { mergeLayers } from './unpack/merge-layers.js';


export type RootfsMethod = 'overlay' | 'bind' | 'copy';

export interface RootfsOptions {
  /** No upper directory: the rootfs cannot be written (skiff image mount without --writable). */
  readonly?: boolean;
  /** Copy even where overlay would work (tests of the fallback). */
  method?: RootfsMethod;
  /** Where the fallback is announced (default stderr). */
  log?: (line: string) => void;
  /** The image's name, kept in the record (an image mount says what it mounts). */
  image?: string;
  /** false: make the overlay's directories but do not mount it yet (a created container; mountRootfs later). */
  mount?: boolean;
}

export interface PreparedRootfs {
  path: string;
  method: RootfsMethod;
  /** Unmounts (if mounted) and removes the container's rootfs, upper and work directories. */
  unmount(): Promise<void>;
}

export interface RootfsRecord {
  method: RootfsMethod;
  /** Absent in records written before it was kept. */
  readonly?: boolean;
  image?: string;
}

export interface RootfsStatus extends RootfsRecord {
  path: string;
  /** What is really there: mounted (a writable copy: present) as recorded; false after an outside umount or a reboot. */
  live: boolean;
  /** Of the mount as it really is (mountinfo), or as recorded when nothing is mounted. */
  readonly: boolean;
}

export function containerDataDir(root: string, containerId: string): string {
  return join(root, 'containers', containerId);
}

export function rootfsPath(root: string, containerId: string): string {
  return join(containerDataDir(root, containerId), 'rootfs');
}

async function runPlan(steps: Step[], cwd?: string): Promise<void> {
  await launch({ plan: [...steps, step('ready')], stdio: ['ignore', 'ignore', 'ignore'], cwd });
}

/** mount(2): a bind mount ignores MS.RDONLY; it takes effect on a remount of the bind (MS.REMOUNT|MS.BIND). */
async function bindReadOnly(source: string, target: string): Promise<void> {
  await runPlan([
    step('mount', [source, target, '', MS.BIND, ''], undefined, `bind ${source} on ${target}`),
    step('mount', ['', target, '', MS.BIND | MS.REMOUNT | MS.RDONLY, ''], undefined, `make ${target} read-only`),
  ]);
}

/** overlayfs's mount data is at most one page; relative lower paths (resolved from the helper's cwd) keep it short. */
function overlayData(layers: string[], upper?: { upper: string; work: string }): { data: string; cwd: string } {
  const cwd = dirname(dirname(layers[0]));
  const lower = [...layers].reverse().map((l) => (dirname(dirname(l)) === cwd ? relative(cwd, l) : l)).join(':');
  return { data: upper ? `lowerdir=${lower},upperdir=${upper.upper},workdir=${upper.work}` : `lowerdir=${lower}`, cwd };
}

/** Makes the rootfs of `containerId` from `layers` (unpacked layer directories, bottom first). */
export async function prepareRootfs(root: string, containerId: string, layers: string[], o: RootfsOptions = {}): Promise<PreparedRootfs> {
  if (layers.length === 0) throw new SkiffError('the image has no layers', 'EINVAL');
  const dir = containerDataDir(root, containerId);
  const path = rootfsPath(root, containerId);
  if (existsSync(path)) throw new SkiffError(`container "${containerId}" already has a root filesystem (${dir})`, 'EEXIST');
  const undo = new UndoStack();
  try {
    // The engine makes the container's directory (its record lives there) before the rootfs; an image mount does not.
    if (existsSync(dir)) {
      mkdirSync(path);
      undo.push(`remove ${path}`, () => { for (const f of ROOTFS_FILES) rmSync(join(dir, f), { recursive: true, force: true }); });
    } else {
      mkdirSync(path, { recursive: true });
      undo.push(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    }
    // Garbage collection keeps the snapshots a container stands on (snapshotsInUse reads this).
    writeFileSync(snapshotsRecord(root, containerId), JSON.stringify(layers.map((l) => basename(dirname(l)))));
    // overlayfs wants two lower directories when it has no upper one; one read-only layer is a read-only bind.
    let method: RootfsMethod = o.method ?? (o.readonly && layers.length === 1 ? 'bind' : 'overlay');
    if (method === 'bind') {
      await bindReadOnly(layers[0], path);
      undo.push(`unmount ${path}`, () => runPlan([step('umount', [path, MNT_DETACH])]));
    }
    if (method === 'overlay') {
      const upper = o.readonly ? undefined : { upper: join(dir, 'upper'), work: join(dir, 'work') };
      if (upper) for (const d of [upper.upper, upper.work]) mkdirSync(d);
      try {
        if (o.mount !== false) await mountOverlay(path, layers, upper, o.readonly);
      } catch (err) {
        (o.log ?? ((l) => process.stderr.write(`${l}\n`)))(
          `skiff: overlay mount for ${containerId} failed (${(err as Error).message}); copying the image's layers instead`);
        method = 'copy';
        if (upper) for (const d of [upper.upper, upper.work]) rmSync(d, { recursive: true, force: true });
      }
    }
    if (method === 'overlay' && o.mount !== false) undo.push(`unmount ${path}`, () => runPlan([step('umount', [path, MNT_DETACH])]));
    if (method === 'copy') {
      await mergeLayers(layers, path);
      if (o.readonly) {
        await bindReadOnly(path, path);
        undo.push(`unmount ${path}`, () => runPlan([step('umount', [path, MNT_DETACH])]));
      }
    }
    const record: RootfsRecord = { method, readonly: Boolean(o.readonly), ...(o.image ? { image: o.image } : {}) };
    writeFileSync(join(dir, 'rootfs.json'), JSON.stringify(record));
    undo.commit();
    return { path, method, unmount: () => removeRootfs(root, containerId) };
  } catch (err) {
    await undo.rollback();
    throw err;
  }
}

/** What prepareRootfs makes in a container's directory. */
const ROOTFS_FILES = ['rootfs', 'upper', 'work', 'snapshots.json', 'rootfs.json'];

async function mountOverlay(path: string, layers: string[], upper: { upper: string; work: string } | undefined, readonly?: boolean): Promise<void> {
  const { data, cwd } = overlayData(layers, upper);
  await runPlan([step('mount', ['overlay', path, 'overlay', readonly ? MS.RDONLY : 0, data], undefined, `mount the overlay rootfs on ${path}`)], cwd);
}

/**
 * Mounts a writable container rootfs prepared earlier (its upper directory keeps what the container wrote) when it
 * is not mounted: at a start after a stop, or after a reboot took the mount. Returns its path.
 */
export async function mountRootfs(root: string, containerId: string): Promise<string> {
  const status = rootfsStatus(root, containerId);
  if (!status) throw new SkiffError(`container "${containerId}" has no root filesystem`, 'ENOENT');
  if (status.live) return status.path;
  if (status.method !== 'overlay' || status.readonly) throw new SkiffError(`container "${containerId}": a ${status.method} rootfs cannot be mounted again`, 'EINVAL');
  const dir = containerDataDir(root, containerId);
  const chain = JSON.parse(readFileSync(snapshotsRecord(root, containerId), 'utf8')) as string[];
  const layers = chain.map((name) => snapshotPath(root, name.replace('-', ':')));
  await mountOverlay(status.path, layers, { upper: join(dir, 'upper'), work: join(dir, 'work') });
  return status.path;
}

/** Unmounts a container's rootfs and keeps its upper directory: a stopped container keeps its changes. */
export async function unmountRootfs(root: string, containerId: string): Promise<void> {
  const path = rootfsPath(root, containerId);
  while (mountAt(path)) await runPlan([step('umount', [path, MNT_DETACH], undefined, `unmount ${path}`)]);
}

/** The mount on `path` that the path shows (the last of a stack), from our mount namespace's mountinfo. */
function mountAt(path: string): { readonly: boolean } | undefined {
  const top = mountsAt(path).at(-1);
  return top && { readonly: (top.flags & MS.RDONLY) !== 0 };
}

/** Unmounts and removes a container's rootfs and its upper, work and record files; absent is not an error. */
export async function removeRootfs(root: string, containerId: string): Promise<void> {
  const dir = containerDataDir(root, containerId);
  if (!existsSync(dir)) return;
  // Everything stacked there (mounted twice from outside too): recursive removal must not reach into a mount.
  await unmountRootfs(root, containerId);
  rmSync(dir, { recursive: true, force: true });
}

/** How a prepared rootfs was made, or undefined if `containerId` has none. */
export function rootfsRecord(root: string, containerId: string): RootfsRecord | undefined {
  const file = join(containerDataDir(root, containerId), 'rootfs.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RootfsRecord) : undefined;
}

/** Whether a container's overlay rootfs is mounted (`ps -a` asks once per container, so not from mountinfo). */
export function overlayMounted(root: string, containerId: string): boolean {
  if (rootfsRecord(root, containerId)?.method !== 'overlay') return false;
  return foreignMountAt(rootfsPath(root, containerId));
}

/** The record of a prepared rootfs checked against what is mounted; undefined if `containerId` has none. */
export function rootfsStatus(root: string, containerId: string): RootfsStatus | undefined {
  const record = rootfsRecord(root, containerId);
  if (!record) return undefined;
  const path = rootfsPath(root, containerId);
  const mount = mountAt(path);
  // A writable copy is the one rootfs with nothing mounted.
  if (!mount && record.method === 'copy' && record.readonly !== true) return { ...record, path, live: existsSync(path), readonly: false };
  return { ...record, path, live: mount !== undefined, readonly: mount?.readonly ?? record.readonly ?? false };
}
