// A container's runtime spec, made at each start from its image, its config and what the start prepared (network
// namespace, hosts files, volumes): the image applied over runc's default spec (image/container-config.ts), then
// docker's defaults and the user's flags. Pure: no I/O beyond reading the image's account files in the rootfs.
import { hostname as hostHostname, release } from 'node:os';
import { CAPABILITIES, capabilityBit } from '../oci/capabilities.js';
import type { LinuxDevice, LinuxNamespace, Mount, Spec } from '../oci/runtime-spec.js';
import { containerSpec, type ImageConfig } from '../image/container-config.js';
import { defaultSeccompProfile } from '../seccomp/default-profile.js';
import { seccompFromProfileFile } from '../seccomp/docker-profile.js';
import { SkiffError } from '../common/errors.js';
import { resolveCgroupsPath } from '../cgroups/index.js';
import type { ContainerConfig, NamespaceMode } from './container-config.js';

/** docker's default capability set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Where --init's binary appears in the container (podman uses /run/podman-init, docker /sbin/docker-init). */
export const INIT_PATH = '/run/skiff-init';

const CPU_PERIOD = 100_000;

/** What a start prepared for the spec. */
export interface StartInputs {
  id: string;
  rootfs: string;
  /** The pinned network namespace to join; undefined with --network host (the host's) or none (a new one). */
  netns?: string;
  /** Files in the container's directory, bind-mounted over the image's. */
  files: { hosts: string; resolvConf: string; hostname: string };
  /** Host paths of the volumes, in the order of config.mounts (undefined for binds and tmpfs). */
  volumePaths: (string | undefined)[];
  /** The init binary on the host (--init). */
  initBinary?: string;
  /** Host facts: the capabilities we hold (a privileged container gets them all) and the host's devices. */
  hostCaps: bigint;
  hostDevices: LinuxDevice[];
  /** config.devices as device nodes, in order, with the cgroup access each was asked for. */
  devices?: { device: LinuxDevice; access: string }[];
}

/** The name the container sees: its own, its pod's, docker's short ID by default, the host's with --network host. */
export function containerHostname(cfg: ContainerConfig, id: string): string {
  return cfg.hostname ?? cfg.shared?.hostname ?? (cfg.networkMode === 'host' ? hostHostname() : id.slice(0, 12));
}

export function buildContainerSpec(image: ImageConfig, cfg: ContainerConfig, inputs: StartInputs): Spec {
  const hostname = containerHostname(cfg, inputs.id);
  const spec = containerSpec(image, inputs.rootfs, {
    command: cfg.command, entrypoint: cfg.entrypoint, env: cfg.env, workdir: cfg.workdir, user: cfg.user,
    hostname, terminal: cfg.tty,
  });
  const proc = spec.process!;
  const linux = spec.linux!;
  if (cfg.init) {
    if (!inputs.initBinary) throw new SkiffError('--init: no init binary (catatonit) on this host: run scripts/setup.sh', 'ENOENT');
    proc.args = [INIT_PATH, '--', ...proc.args!];
  }
  proc.noNewPrivileges = cfg.noNewPrivileges;
  if (cfg.oomScoreAdj !== undefined) proc.oomScoreAdj = cfg.oomScoreAdj;
  if (cfg.groupAdd?.length) {
    // The primary group is listed too, as containerd's WithAdditionalGIDs does (`id` shows it among the groups).
    proc.user!.additionalGids = [...new Set([proc.user!.gid, ...(proc.user!.additionalGids ?? []), ...cfg.groupAdd])];
  }
  // docker gives a container the daemon's own limits, not runc's default of 1024 open files.
  delete proc.rlimits;

  const caps = capabilities(cfg, inputs.hostCaps);
  proc.capabilities = { bounding: caps, effective: caps, permitted: caps };
  if (cfg.privileged) {
    delete linux.maskedPaths;
    delete linux.readonlyPaths;
    linux.devices = inputs.hostDevices;
    linux.resources = { devices: [{ allow: true, access: 'rwm' }] };
  }
  if (!cfg.privileged) {
    if (cfg.maskedPaths) linux.maskedPaths = cfg.maskedPaths;
    if (cfg.readonlyPaths) linux.readonlyPaths = cfg.readonlyPaths;
  }
  if (inputs.devices?.length) {
    linux.devices = [...(linux.devices ?? []), ...inputs.devices.map((d) => d.device)];
    const rules = inputs.devices.map((d) => ({ allow: true, type: d.device.type === 'b' ? 'b' as const : 'c' as const, major: d.device.major, minor: d.device.minor, access: d.access }));
    linux.resources = { ...linux.resources, devices: [...(linux.resources?.devices ?? []), ...rules] };
  }
  if (cfg.seccomp === 'unconfined' || (cfg.privileged && !cfg.seccomp)) delete linux.seccomp;
  else if (cfg.seccomp) linux.seccomp = seccompFromProfileFile(cfg.seccomp.text, cfg.seccomp.file, caps, release());
  else linux.seccomp = defaultSeccompProfile(caps);

  spec.root = { path: inputs.rootfs, readonly: cfg.readOnlyRootfs };
  const join = cfg.shared?.namespaces ?? {};
  linux.namespaces = [
    ...(join.user ? [{ type: 'user' as const, path: join.user }] : []),
    ...namespace('pid', cfg.namespaceModes?.pid, join.pid),
    ...namespace('ipc', cfg.namespaceModes?.ipc, join.ipc),
    { type: 'uts', ...(join.uts ? { path: join.uts } : {}) },
    { type: 'mount' },
  ];
  const netns = join.network ?? inputs.netns;
  if (netns) linux.namespaces.push({ type: 'network', path: netns });
  // --network none: a namespace of its own, with only lo (brought up by the runtime: loopbackUp).
  else if (cfg.networkMode === 'none') linux.namespaces.push({ type: 'network' });
  // Always written out: another runtime's binary (a runtime handler) would otherwise place it by rules of its own.
  linux.cgroupsPath = resolveCgroupsPath(cfg.shared?.cgroupParent ? `${cfg.shared.cgroupParent}/${inputs.id}` : undefined, inputs.id);
  linux.resources = { ...linux.resources, ...resources(cfg) };
  spec.mounts = [...mounts(spec.mounts ?? [], cfg, inputs)];
  // A shared or slave bind needs a root that passes mount events on (moby and containerd's CRI do the same): under
  // a private root the bind's own propagation never reaches the host or comes from it (mount_namespaces(7)).
  const binds = cfg.mounts.filter((m) => m.type === 'bind' && m.propagation);
  if (binds.some((m) => m.type === 'bind' && m.propagation!.endsWith('shared'))) linux.rootfsPropagation = 'rshared';
  else if (binds.some((m) => m.type === 'bind' && m.propagation!.endsWith('slave'))) linux.rootfsPropagation = 'rslave';
  const annotations = { ...spec.annotations, ...cfg.labels, ...cfg.annotations };
  if (cfg.stopSignal) annotations['org.opencontainers.image.stopSignal'] = cfg.stopSignal;
  if (Object.keys(annotations).length) spec.annotations = annotations;
  return spec;
}

/** The namespace entry: the pod's (`shared`) unless a mode says otherwise; none at all for the host's. */
function namespace(type: 'pid' | 'ipc', mode: NamespaceMode | undefined, shared: string | undefined): LinuxNamespace[] {
  if (mode === 'host') return [];
  if (mode === 'private') return [{ type }];
  const path = mode?.path ?? shared;
  return [{ type, ...(path ? { path } : {}) }];
}

function capabilities(cfg: ContainerConfig, hostCaps: bigint): string[] {
  const held = CAPABILITIES.filter((c) => (hostCaps >> BigInt(capabilityBit(c)!)) & 1n);
  if (cfg.privileged) return held;
  const drop = new Set(cfg.capDrop);
  const all = drop.has('ALL');
  const out = new Set(all ? [] : DOCKER_DEFAULT_CAPS.filter((c) => !drop.has(c)));
  for (const c of cfg.capAdd) {
    // ALL is what we hold, as containerd's cap.Current(): a capability the host lacks could not be given anyway.
    if (c === 'ALL') held.forEach((x) => out.add(x));
    else out.add(c);
  }
  return [...out].sort((a, b) => capabilityBit(a)! - capabilityBit(b)!);
}

/** The cgroup limits of a config's resources, as the runtime spec has them. */
export function resources(cfg: Pick<ContainerConfig, 'resources'>): NonNullable<Spec['linux']>['resources'] {
  const r = cfg.resources;
  const out: NonNullable<NonNullable<Spec['linux']>['resources']> = {};
  if (r.cpuPeriod || r.cpuQuota || r.cpusetCpus || r.cpusetMems) {
    out.cpu = {
      ...(r.cpuPeriod ? { period: r.cpuPeriod } : {}), ...(r.cpuQuota ? { quota: r.cpuQuota } : {}),
      ...(r.cpusetCpus ? { cpus: r.cpusetCpus } : {}), ...(r.cpusetMems ? { mems: r.cpusetMems } : {}),
    };
  }
  if (r.hugepageLimits?.length) out.hugepageLimits = r.hugepageLimits.map((h) => ({ pageSize: h.pageSize, limit: h.limit }));
  if (r.memory || r.memorySwap) out.memory = { ...(r.memory ? { limit: r.memory } : {}), ...(r.memorySwap ? { swap: r.memorySwap } : {}) };
  if (r.nanoCpus || r.cpuShares) {
    out.cpu = {
      ...out.cpu,
      ...(r.nanoCpus ? { quota: Math.round((r.nanoCpus / 1e9) * CPU_PERIOD), period: CPU_PERIOD } : {}),
      ...(r.cpuShares ? { shares: r.cpuShares } : {}),
    };
  }
  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  return out;
}

function* mounts(base: Mount[], cfg: ContainerConfig, inputs: StartInputs): Iterable<Mount> {
  const targets = new Set(cfg.mounts.map((m) => m.target));
  for (const m of base) {
    if (targets.has(m.destination)) continue; // the user's mount wins over the default one at the same place
    if (m.destination === '/dev/shm' && cfg.shared?.shm) {
      yield { destination: '/dev/shm', type: 'bind', source: cfg.shared.shm, options: ['rbind', 'rprivate', 'nosuid', 'nodev', 'noexec'] };
    } else if (m.destination === '/dev/shm' && cfg.shmSize) {
      yield { ...m, options: [...(m.options ?? []).filter((o) => !o.startsWith('size=')), `size=${Math.floor(cfg.shmSize / 1024)}k`] };
    } else if (m.destination === '/sys/fs/cgroup' && cfg.privileged) {
      yield { ...m, options: (m.options ?? []).filter((o) => o !== 'ro') };
    } else {
      yield m;
    }
  }
  const own = cfg.shared?.files ?? inputs.files;
  const files: [string, string][] = [['/etc/hosts', own.hosts], ['/etc/resolv.conf', own.resolvConf], ['/etc/hostname', own.hostname]];
  for (const [destination, source] of files) {
    if (!targets.has(destination)) yield { destination, type: 'bind', source, options: ['rbind', 'rprivate'] };
  }
  for (const [i, m] of cfg.mounts.entries()) {
    if (m.type === 'tmpfs') {
      const opts = ['nosuid', 'nodev', 'noexec', ...(m.options ?? [])];
      if (m.sizeBytes) opts.push(`size=${m.sizeBytes}`);
      if (m.mode !== undefined) opts.push(`mode=${m.mode.toString(8)}`);
      if (m.readOnly) opts.push('ro');
      yield { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: opts };
    } else {
      const source = m.type === 'bind' ? m.source : inputs.volumePaths[i]!;
      const propagation = m.type === 'bind' && m.propagation ? m.propagation : 'rprivate';
      yield { destination: m.target, type: 'bind', source, options: ['rbind', m.readOnly ? 'ro' : 'rw', propagation] };
    }
  }
  if (cfg.init && inputs.initBinary) yield { destination: INIT_PATH, type: 'bind', source: inputs.initBinary, options: ['bind', 'ro', 'nosuid', 'nodev'] };
}
