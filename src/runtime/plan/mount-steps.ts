// The container's mounts, in config order, inside its new mount namespace (runtime-spec config.md "Mounts";
// runc's rootfs_linux.go is the reference for the order: propagation of /, rootfs bind, mounts, devices).
import { MS, parseMountOptions } from '../../oci/mount-options.js';
import type { Mount, Spec } from '../../oci/runtime-spec.js';
import type { HostFacts } from '../host-facts.js';
import { step, type Step } from './step.js';

export type BindSourceKinds = Record<string, 'dir' | 'file'>;

export interface MountContext {
  rootfs: string;
  host: HostFacts;
  bindSourceKinds: BindSourceKinds;
  /** Resolved cgroup path of the container (e.g. /skiff/c1), for cgroup mounts on v1. */
  cgroupsPath: string;
  /** A new user namespace: devices cannot be created, they are bind-mounted from the host. */
  userns: boolean;
}

export const DEFAULT_DEVICES = [
  { path: '/dev/null', major: 1, minor: 3 }, { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 }, { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 }, { path: '/dev/tty', major: 5, minor: 0 },
];

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** Steps run before pivot_root: / propagation, the rootfs bind, every mount, devices when in a user namespace. */
export function mountSteps(spec: Spec, ctx: MountContext): Step[] {
  const steps: Step[] = [];
  const { rootfs } = ctx;
  const rootProp = spec.linux?.rootfsPropagation ? parseMountOptions([spec.linux.rootfsPropagation]).propagation[0]
    : MS.SLAVE | MS.REC;
  // Our mounts must not propagate to the host: make the whole tree slave (or what rootfsPropagation asks).
  steps.push(step('mount', ['', '/', '', rootProp, ''], 'linux.rootfsPropagation', 'set propagation of /'));
  // pivot_root(2) needs new_root to be a mount point: bind the rootfs onto itself.
  steps.push(step('mount', [rootfs, rootfs, '', MS.BIND | MS.REC, ''], 'root.path', `bind rootfs ${rootfs}`));

  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const what = `mount "${m.source ?? m.type ?? 'none'}" on ${m.destination}`;
    const opts = parseMountOptions(m.options);
    if (m.type === 'cgroup' && !isBind(m)) {
      steps.push(...cgroupMountSteps(m, opts.flags, ctx, field));
      return;
    }
    if (isBind(m)) {
      const kind = ctx.bindSourceKinds[m.source!] ?? 'dir';
      steps.push(kind === 'dir'
        ? step('mkdir-in', [rootfs, m.destination, 0o755], field, `create ${m.destination}`)
        : step('touch-in', [rootfs, m.destination, 0o644], field, `create ${m.destination}`));
      const bindFlags = MS.BIND | (opts.flags & MS.REC);
      steps.push(step('mount-in', [rootfs, m.source!, m.destination, '', bindFlags, ''], field, what));
      // mount(2): MS_BIND ignores the other flags; they take a remount.
      const rest = opts.flags & ~(MS.BIND | MS.REC);
      if (rest) {
        steps.push(step('mount-in', [rootfs, '', m.destination, '', rest | MS.BIND | MS.REMOUNT, ''], field, `remount ${m.destination} with its options`));
      }
    } else {
      steps.push(step('mkdir-in', [rootfs, m.destination, 0o755], field, `create ${m.destination}`));
      steps.push(step('mount-in', [rootfs, m.source ?? m.type ?? '', m.destination, m.type ?? '', opts.flags, opts.data.join(',')], field, what));
    }
    for (const p of opts.propagation) {
      steps.push(step('mount-in', [rootfs, '', m.destination, '', p, ''], field, `set propagation of ${m.destination}`));
    }
  });
  if (ctx.userns && mountsDevTmpfs(spec)) steps.push(...bindDeviceSteps(spec, ctx));
  return steps;
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
  steps.push(step('mount-in', [rootfs, 'tmpfs', m.destination, 'tmpfs', (flags & ~MS.RDONLY) | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755'], field,
    `mount tmpfs on ${m.destination}`));
  for (const h of ctx.host.cgroupV1Hierarchies) {
    const dest = `${m.destination}/${h}`;
    steps.push(step('mkdir-in', [rootfs, dest, 0o755], field, `create ${dest}`));
    steps.push(step('mount-in', [rootfs, `/sys/fs/cgroup/${h}${ctx.cgroupsPath}`, dest, '', MS.BIND, ''], field, `bind the container's ${h} cgroup on ${dest}`));
    if (flags & MS.RDONLY) {
      steps.push(step('mount-in', [rootfs, '', dest, '', MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, ''], field, `make ${dest} read-only`));
    }
  }
  if (flags & MS.RDONLY) {
    steps.push(step('mount-in', [rootfs, '', m.destination, '', MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755'], field, `make ${m.destination} read-only`));
  }
  return steps;
}

/** /dev is a tmpfs of the config's (not a bind of the host's /dev), so the runtime fills it. */
export function mountsDevTmpfs(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => m.destination === '/dev' && !isBind(m));
}

function allDevices(spec: Spec) {
  const listed = (spec.linux?.devices ?? []).map((d, i) => ({ ...d, field: `linux.devices[${i}]` }));
  const defaults = DEFAULT_DEVICES.filter((d) => !listed.some((l) => l.path === d.path))
    .map((d) => ({ ...d, type: 'c' as const, fileMode: 0o666, uid: 0, gid: 0, field: 'linux.devices' }));
  return [...defaults, ...listed];
}

/** In a user namespace mknod(2) is not allowed: bind the host's device node instead (runc does the same). */
function bindDeviceSteps(spec: Spec, ctx: MountContext): Step[] {
  return allDevices(spec).flatMap((d) => [
    step('touch-in', [ctx.rootfs, d.path, 0o644], d.field, `create ${d.path}`),
    step('mount-in', [ctx.rootfs, d.path, d.path, '', MS.BIND, ''], d.field, `bind device ${d.path}`),
  ]);
}

/** After pivot_root: device nodes (without a user namespace) and the standard /dev symlinks. */
export function devSteps(spec: Spec, userns: boolean): Step[] {
  if (!mountsDevTmpfs(spec)) return [];
  const steps: Step[] = [];
  if (!userns) {
    for (const d of allDevices(spec)) {
      const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
      steps.push(step('mknod', [d.path, type | (d.fileMode ?? 0o666), d.major ?? 0, d.minor ?? 0, d.uid ?? 0, d.gid ?? 0],
        d.field, `create device ${d.path}`));
    }
  }
  for (const [target, link] of [['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr'], ['pts/ptmx', '/dev/ptmx']]) {
    steps.push(step('symlink', [target, link], 'mounts', `symlink ${link}`));
  }
  return steps;
}
