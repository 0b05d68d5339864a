// The container's filesystem inside its new mount namespace (runtime-spec config.md "Mounts", config-linux.md
// "Default Devices"). The order is runc's (libcontainer/rootfs_linux.go prepareRootfs): propagation of /, the
// rootfs bound onto itself, every mount in config order, then pivot_root and what follows it.
import { posix } from 'node:path';
import { DEFAULT_DEV_SYMLINKS, DEFAULT_DEVICES } from '../../oci/default-devices.js';
import { MS } from '../../common/linux-flags.js';
import { parseMountOptions } from '../../oci/mount-options.js';
import type { LinuxDevice, Mount, Spec } from '../../oci/runtime-spec.js';
import type { HostFacts } from '../host-facts.js';
import { step, type Step } from '../../native/step.js';

/** Bind mount source (as written in config.json) -> what it is on the host, filled by statBindSources. */
export type BindSourceKinds = Record<string, 'dir' | 'file'>;

export interface MountContext {
  bundle: string;
  rootfs: string;
  host: HostFacts;
  bindSourceKinds: BindSourceKinds;
  /** Bind source -> MS_* flags of the host mount it is on (bindSourceFlags), kept on remounts in a user namespace. */
  bindSourceFlags?: Record<string, number>;
  /** Resolved cgroup path of the container (e.g. /skiff/c1), for cgroup mounts on v1. */
  cgroupsPath: string;
  /** A new user namespace: devices cannot be created, they are bind-mounted from the host. */
  userns: boolean;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export function isBindMount(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** config.md: a bind source is absolute or relative to the bundle. */
export function bindSourcePath(source: string, bundle: string): string {
  return source.startsWith('/') ? source : `${bundle.replace(/\/$/, '')}/${source}`;
}

/** The propagation asked by linux.rootfsPropagation; runc's default is rslave. */
export function rootPropagation(spec: Spec): number {
  const asked = spec.linux?.rootfsPropagation;
  return asked ? parseMountOptions([asked]).propagation[0] : MS.SLAVE | MS.REC;
}

/**
 * What / gets before the mounts. mount_namespaces(7): an unbindable mount cannot be the source of a bind mount, and
 * the rootfs, bind sources, masks and read-only paths are all binds from mounts under /. So (r)unbindable is
 * (r)private until the mounts are done, and is applied last (unbindableSteps).
 */
function preparePropagation(spec: Spec): number {
  const p = rootPropagation(spec);
  return p & MS.UNBINDABLE ? (p & ~MS.UNBINDABLE) | MS.PRIVATE : p;
}

/**
 * Steps run before pivot_root: / propagation, the propagation of the mount holding the rootfs, the rootfs bound
 * onto itself, every mount, devices when in a user namespace.
 */
export function mountSteps(spec: Spec, ctx: MountContext): Step[] {
  const { rootfs } = ctx;
  const steps: Step[] = [];
  // Our mounts must not propagate to the host: the whole tree becomes slave (or what rootfsPropagation asks).
  const first = preparePropagation(spec);
  steps.push(step('mount', ['', '/', '', first, ''], 'linux.rootfsPropagation', 'set propagation of /'));
  // The mount holding the rootfs must not be shared: pivot_root(2) fails with EINVAL when the parent mount of
  // new_root is shared, and the rootfs bind below would appear on the host. It stays a slave when a slave root is
  // asked (events from the host still reach the container), else it is made private (runc does the same). A
  // recursive private or slave / has already done it.
  if (!(first & MS.REC) || first & MS.SHARED) {
    const holder = first & MS.SLAVE ? MS.SLAVE : MS.PRIVATE;
    steps.push(step('holder-propagation', [rootfs, holder], 'linux.rootfsPropagation',
      `make the mount holding ${rootfs} ${holder === MS.SLAVE ? 'a slave' : 'private'}`));
  }
  // pivot_root(2): new_root must be a mount point, so bind the rootfs onto itself.
  steps.push(step('mount', [rootfs, rootfs, '', MS.BIND | MS.REC, ''], 'root.path', `bind rootfs ${rootfs}`));

  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const opts = parseMountOptions(m.options);
    if (m.type === 'cgroup' && !isBindMount(m)) steps.push(...cgroupMountSteps(m, opts.flags, ctx, field));
    else if (isBindMount(m)) steps.push(...bindMountSteps(m, opts.flags, ctx, field));
    else steps.push(...filesystemMountSteps(m, opts.flags, opts.data.join(','), ctx, field));
    for (const p of opts.propagation.filter((f) => !(f & MS.UNBINDABLE))) {
      steps.push(step('mount-in', [rootfs, '', m.destination, '', p, ''], field, `set propagation of ${m.destination}`));
    }
  });
  if (ctx.userns && setsUpDev(spec)) steps.push(...bindDeviceSteps(spec, ctx));
  return steps;
}

/**
 * The unbindable propagations, once nothing more is bound from the container's mounts (after the masks and
 * read-only paths, which bind /dev/null and the paths themselves): the mounts' own, then the new /.
 */
export function unbindableSteps(spec: Spec): Step[] {
  const steps: Step[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    for (const p of parseMountOptions(m.options).propagation.filter((f) => f & MS.UNBINDABLE)) {
      steps.push(step('mount-in', ['/', '', m.destination, '', p, ''], `mounts[${i}]`, `make ${m.destination} unbindable`));
    }
  });
  const root = rootPropagation(spec);
  if (root & MS.UNBINDABLE) steps.push(step('mount', ['', '/', '', root, ''], 'linux.rootfsPropagation', 'make / unbindable'));
  return steps;
}

function bindMountSteps(m: Mount, flags: number, ctx: MountContext, field: string): Step[] {
  const { rootfs } = ctx;
  const source = bindSourcePath(m.source!, ctx.bundle);
  const kind = ctx.bindSourceKinds[m.source!];
  if (!kind) throw new Error(`${field}.source: bind source ${m.source} was not looked at (statBindSources)`);
  const steps = [kind === 'dir'
    ? step('mkdir-in', [rootfs, m.destination, 0o755], field, `create ${m.destination}`)
    : step('touch-in', [rootfs, m.destination, 0o644], field, `create ${m.destination}`)];
  steps.push(step('mount-in', [rootfs, source, m.destination, '', MS.BIND | (flags & MS.REC), ''], field,
    `bind ${source} on ${m.destination}`));
  // mount(2): with MS_BIND every other flag is ignored; ro, nosuid, ... take a second, remounting call.
  const rest = flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
  if (rest) {
    const locked = ctx.userns ? lockedFlags(ctx.bindSourceFlags?.[m.source!] ?? 0, rest) : 0;
    steps.push(step('mount-in', [rootfs, '', m.destination, '', rest | locked | MS.BIND | MS.REMOUNT, ''], field,
      `remount ${m.destination} with its options`));
  }
  return steps;
}

const ATIME_FLAGS = MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;

/**
 * mount_namespaces(7): in a mount namespace owned by a new user namespace, a remount cannot clear the source's
 * ro, nosuid, nodev, noexec or atime flags. Keep them, with the atime flags only when the config names none.
 */
function lockedFlags(source: number, asked: number): number {
  const keep = source & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
  return asked & ATIME_FLAGS ? keep : keep | (source & ATIME_FLAGS);
}

function filesystemMountSteps(m: Mount, flags: number, data: string, ctx: MountContext, field: string): Step[] {
  const { rootfs } = ctx;
  // /dev is filled with device nodes after pivot_root; a read-only /dev is remounted so once that is done.
  const mountFlags = m.destination === '/dev' ? flags & ~MS.RDONLY : flags;
  return [
    step('mkdir-in', [rootfs, m.destination, 0o755], field, `create ${m.destination}`),
    step('mount-in', [rootfs, m.source ?? m.type!, m.destination, m.type!, mountFlags, data], field,
      `mount "${m.source ?? m.type}" on ${m.destination}`),
  ];
}

/**
 * A cgroup mount. On v2 the cgroup2 filesystem. On v1 a tmpfs holding one bind mount per hierarchy of the
 * container's own cgroup directory (as runc does without a cgroup namespace), so the container sees its limits
 * and nothing of the host's other cgroups.
 */
function cgroupMountSteps(m: Mount, flags: number, ctx: MountContext, field: string): Step[] {
  const { rootfs } = ctx;
  const steps: Step[] = [step('mkdir-in', [rootfs, m.destination, 0o755], field, `create ${m.destination}`)];
  if (ctx.host.cgroupMode === 'v2') {
    steps.push(step('mount-in', [rootfs, 'cgroup', m.destination, 'cgroup2', flags, ''], field, `mount cgroup2 on ${m.destination}`));
    return steps;
  }
  const locked = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  steps.push(step('mount-in', [rootfs, 'tmpfs', m.destination, 'tmpfs', (flags & ~MS.RDONLY) | locked, 'mode=755'], field,
    `mount tmpfs on ${m.destination}`));
  for (const h of ctx.host.cgroupV1Hierarchies) {
    const dest = `${m.destination}/${h}`;
    steps.push(step('mkdir-in', [rootfs, dest, 0o755], field, `create ${dest}`));
    steps.push(step('mount-in', [rootfs, `/sys/fs/cgroup/${h}${ctx.cgroupsPath}`, dest, '', MS.BIND, ''], field,
      `bind the container's ${h} cgroup on ${dest}`));
    if (flags & MS.RDONLY) {
      steps.push(step('mount-in', [rootfs, '', dest, '', MS.BIND | MS.REMOUNT | MS.RDONLY | locked, ''], field, `make ${dest} read-only`));
    }
  }
  if (flags & MS.RDONLY) {
    steps.push(step('mount-in', [rootfs, '', m.destination, '', MS.REMOUNT | MS.RDONLY | locked, 'mode=755'], field,
      `make ${m.destination} read-only`));
  }
  return steps;
}

/** The runtime fills /dev when config.json mounts a filesystem there (not a bind of the host's /dev), as runc does. */
export function setsUpDev(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => m.destination === '/dev' && !isBindMount(m));
}

interface PlannedDevice extends LinuxDevice {
  field: string;
}

/** The default devices, unless linux.devices lists the same path, then linux.devices. */
function plannedDevices(spec: Spec): PlannedDevice[] {
  const listed = (spec.linux?.devices ?? []).map((d, i) => ({ ...d, field: `linux.devices[${i}]` }));
  const defaults = DEFAULT_DEVICES.filter((d) => !listed.some((l) => l.path === d.path))
    .map((d) => ({ ...d, field: 'linux.devices' }));
  return [...defaults, ...listed];
}

/** In a user namespace mknod(2) is not allowed: bind the host's device node instead (runc does the same). */
function bindDeviceSteps(spec: Spec, ctx: MountContext): Step[] {
  return plannedDevices(spec).flatMap((d) => [
    step('touch-in', [ctx.rootfs, d.path, 0o644], d.field, `create ${d.path}`),
    step('mount-in', [ctx.rootfs, d.path, d.path, '', MS.BIND, ''], d.field, `bind device ${d.path}`),
  ]);
}

/**
 * After pivot_root: the propagation of the new / when it is to be shared (runc applies rootfsPropagation again
 * here, to the root it now is; private and slave it already has from its holder), device nodes (without a user
 * namespace), the standard /dev symlinks, and a read-only /dev.
 */
export function afterPivotSteps(spec: Spec, userns: boolean): Step[] {
  const steps: Step[] = [];
  const root = rootPropagation(spec);
  if (spec.linux?.rootfsPropagation && root & MS.SHARED) {
    steps.push(step('mount', ['', '/', '', root, ''], 'linux.rootfsPropagation', 'set propagation of the new /'));
  }
  if (!setsUpDev(spec)) return steps;
  if (!userns) {
    for (const d of plannedDevices(spec)) {
      const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
      // A device below a directory of /dev (/dev/cpu/0/cpuid, /dev/net/tun): its parents first, as runc does.
      const parent = posix.dirname(d.path);
      if (parent !== '/dev') steps.push(step('mkdir-in', ['/', parent, 0o755], d.field, `create ${parent}`));
      steps.push(step('mknod', [d.path, type | (d.fileMode ?? 0o666), d.major ?? 0, d.minor ?? 0, d.uid ?? 0, d.gid ?? 0],
        d.field, `create device ${d.path}`));
    }
  }
  for (const [target, link] of DEFAULT_DEV_SYMLINKS) steps.push(step('symlink', [target, link], 'mounts', `symlink ${link}`));
  const devIndex = (spec.mounts ?? []).findIndex((m) => m.destination === '/dev');
  const dev = spec.mounts![devIndex];
  const devFlags = parseMountOptions(dev.options).flags;
  if (devFlags & MS.RDONLY) {
    steps.push(step('mount', ['', '/dev', '', (devFlags & ~MS.BIND) | MS.REMOUNT, parseMountOptions(dev.options).data.join(',')],
      `mounts[${devIndex}]`, 'make /dev read-only'));
  }
  return steps;
}
