// CreateContainer's ContainerConfig as the engine's: a pure function of the request, the pod it goes in and the
// few host facts it depends on, so unit tests can feed what the kubelet 1.26 sends. Every field is either carried
// over or refused with INVALID_ARGUMENT naming it; all problems are reported together.
import { isAbsolute } from 'node:path';
import { capabilityBit } from '../oci/capabilities.js';
import { defaultContainerConfig, type ContainerConfig, type MountRequest, type NamespaceMode } from '../engine/container-config.js';
import { invalidArgument } from './grpc-error.js';
import { engineName } from './engine-name.js';
import { KEYS, namespaceOptionsOf } from './cri-keys.js';
import type { ContainerConfig__Output } from './proto/generated/runtime/v1/ContainerConfig.js';
import type { LinuxContainerResources__Output } from './proto/generated/runtime/v1/LinuxContainerResources.js';
import type { LinuxContainerSecurityContext__Output } from './proto/generated/runtime/v1/LinuxContainerSecurityContext.js';
import type { PodSandboxConfig__Output } from './proto/generated/runtime/v1/PodSandboxConfig.js';
import type { SecurityProfile__Output } from './proto/generated/runtime/v1/SecurityProfile.js';
import type { PodView } from './sandboxes.js';

export interface HostFacts {
  /** skiffd's own oom_score_adj: without CAP_SYS_RESOURCE no lower value can be set (clamped to it). */
  oomScoreAdj: number;
  canLowerOomScoreAdj: boolean;
  /** Reads a Localhost seccomp profile (a file on the host). */
  readFile(path: string): string;
  /** The host's pid namespace path of a running container (TARGET pid), or an error message. */
  targetPidNamespace?: string | { error: string };
}

export interface Translated {
  /** The engine container's name (unique per metadata and pod, as containerd's). */
  name: string;
  image: string;
  config: ContainerConfig;
  /** Things done differently from what was asked, worth a log line (an oom_score_adj clamped). */
  notes: string[];
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: 'rprivate', PROPAGATION_HOST_TO_CONTAINER: 'rslave', PROPAGATION_BIDIRECTIONAL: 'rshared',
};

/** A CRI capability name ("NET_ADMIN" or "CAP_NET_ADMIN", any case; "ALL") as the engine's. */
function capability(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return capabilityBit(full) === undefined ? undefined : full;
}

/** An int64 field as a number; undefined for 0 (proto3's unset). */
function int(v: string | undefined): number | undefined {
  const n = Number(v ?? '0');
  return n === 0 || !Number.isFinite(n) ? undefined : n;
}

/** The container's name in the engine: containerd's makeContainerName (name_pod_namespace_uid_attempt). */
export function containerName(cfg: ContainerConfig__Output, sandbox: { name: string; namespace: string; uid: string }): string {
  return engineName([cfg.metadata!.name, sandbox.name, sandbox.namespace, sandbox.uid, String(cfg.metadata!.attempt)]);
}

type Add = (field: string, message: string) => void;

/** The seccomp profile: `seccomp` (1.26), else the deprecated `seccomp_profile_path`. Unset is unconfined (containerd's default). */
function seccomp(sc: LinuxContainerSecurityContext__Output, host: HostFacts, add: Add): ContainerConfig['seccomp'] | 'default' {
  const localhost = (path: string, field: string): ContainerConfig['seccomp'] | 'default' => {
    if (!isAbsolute(path)) {
      add(field, `the Localhost profile "${path}" is not an absolute path`);
      return 'unconfined';
    }
    try {
      return { file: path, text: host.readFile(path) };
    } catch (err) {
      add(field, `cannot read the Localhost profile: ${(err as Error).message}`);
      return 'unconfined';
    }
  };
  const profile: SecurityProfile__Output | null = sc.seccomp;
  if (profile) {
    switch (profile.profile_type) {
      case 'RuntimeDefault': return 'default';
      case 'Unconfined': return 'unconfined';
      case 'Localhost': return localhost(profile.localhost_ref, 'linux.security_context.seccomp.localhost_ref');
      default: add('linux.security_context.seccomp.profile_type', `unknown profile type ${String(profile.profile_type)}`);
    }
    return 'unconfined';
  }
  const path = sc.seccomp_profile_path;
  if (path === '' || path === 'unconfined') return 'unconfined';
  if (path === 'runtime/default' || path === 'docker/default') return 'default';
  if (path.startsWith('localhost/')) return localhost(path.slice('localhost/'.length), 'linux.security_context.seccomp_profile_path');
  add('linux.security_context.seccomp_profile_path', `"${path}" is not runtime/default, docker/default, unconfined or localhost/PATH`);
  return 'unconfined';
}

function resources(r: LinuxContainerResources__Output, host: HostFacts, cfg: ContainerConfig, add: Add, notes: string[], field = 'linux.resources'): void {
  const res = cfg.resources;
  const period = int(r.cpu_period), quota = int(r.cpu_quota), shares = int(r.cpu_shares);
  if (period !== undefined) res.cpuPeriod = period;
  if (quota !== undefined && quota > 0) res.cpuQuota = quota;
  if (shares !== undefined) res.cpuShares = shares;
  const memory = int(r.memory_limit_in_bytes), swap = int(r.memory_swap_limit_in_bytes);
  if (memory !== undefined && memory > 0) res.memory = memory;
  if (swap !== undefined) res.memorySwap = swap;
  if (r.cpuset_cpus) res.cpusetCpus = r.cpuset_cpus;
  if (r.cpuset_mems) res.cpusetMems = r.cpuset_mems;
  if (r.hugepage_limits.length) {
    res.hugepageLimits = r.hugepage_limits.map((h, i) => {
      if (!/^\d+[KMG]B$/.test(h.page_size)) add(`${field}.hugepage_limits[${i}].page_size`, `"${h.page_size}" is not a page size such as 2MB`);
      return { pageSize: h.page_size, limit: Number(h.limit) };
    });
  }
  if (Object.keys(r.unified).length) add(`${field}.unified`, 'cgroup v2 settings, and this host runs cgroup v1');
  const adj = Number(r.oom_score_adj || '0');
  if (adj < -1000 || adj > 1000) add(`${field}.oom_score_adj`, `${adj} is outside -1000..1000`);
  else if (adj < host.oomScoreAdj && !host.canLowerOomScoreAdj) {
    // containerd's restrict_oom_score_adj: a process without CAP_SYS_RESOURCE cannot go below its parent's.
    cfg.oomScoreAdj = host.oomScoreAdj;
    notes.push(`oom_score_adj ${adj} clamped to skiffd's own ${host.oomScoreAdj}: no CAP_SYS_RESOURCE to lower it`);
  } else if (r.oom_score_adj !== '0' && r.oom_score_adj !== '') {
    cfg.oomScoreAdj = adj;
  }
}

/** The engine's resources from UpdateContainerResources' LinuxContainerResources (oom_score_adj cannot change live). */
export function updatedResources(r: LinuxContainerResources__Output, host: HostFacts): ContainerConfig['resources'] {
  const cfg = defaultContainerConfig();
  const problems: string[] = [];
  resources(r, host, cfg, (f, m) => problems.push(`${f}: ${m}`), [], 'linux');
  if (problems.length) throw invalidArgument(problems.join('; '));
  return cfg.resources;
}

function namespaceMode(
  which: 'pid' | 'ipc', mode: string, pod: PodView, podMode: string | undefined, host: HostFacts, add: Add,
): NamespaceMode | undefined {
  const field = `linux.security_context.namespace_options.${which}`;
  const shared = which === 'pid' ? pod.share.pid : pod.share.ipc;
  switch (mode) {
    case 'NODE': return 'host';
    case 'CONTAINER': return shared || podMode === 'NODE' ? 'private' : undefined;
    case 'POD':
      if (podMode === 'NODE') return 'host';
      if (!shared) add(field, `POD, and the sandbox does not share its ${which} namespace`);
      return undefined;
    case 'TARGET': {
      if (which !== 'pid') break;
      const t = host.targetPidNamespace;
      if (!t) add('linux.security_context.namespace_options.target_id', 'TARGET pid needs the ID of a running container');
      else if (typeof t !== 'string') add('linux.security_context.namespace_options.target_id', t.error);
      else return { path: t };
      return undefined;
    }
  }
  add(field, `unknown namespace mode ${mode}`);
  return undefined;
}

function security(sc: LinuxContainerSecurityContext__Output, pod: PodView, sandbox: PodSandboxConfig__Output | null, host: HostFacts, cfg: ContainerConfig, add: Add): void {
  const f = (name: string) => `linux.security_context.${name}`;
  const podPrivileged = sandbox?.linux?.security_context?.privileged ?? pod.annotations[KEYS.privileged] === 'true';
  if (sc.privileged && !podPrivileged) add(f('privileged'), 'a privileged container in a sandbox that is not privileged');
  cfg.privileged = sc.privileged;
  const caps = sc.capabilities;
  if (caps) {
    for (const [list, into] of [['add_capabilities', cfg.capAdd], ['drop_capabilities', cfg.capDrop]] as const) {
      caps[list].forEach((c, i) => {
        const name = capability(c);
        if (name) into.push(name);
        else add(f(`capabilities.${list}[${i}]`), `unknown capability "${c}"`);
      });
    }
    if (caps.add_ambient_capabilities.length) add(f('capabilities.add_ambient_capabilities'), 'ambient capabilities are not supported');
  }
  const ns = sc.namespace_options;
  if (ns) {
    const podNs = namespaceOptionsOf(pod.annotations) ?? sandbox?.linux?.security_context?.namespace_options ?? undefined;
    const podHostNet = pod.network === 'host' || podNs?.network === 'NODE';
    if ((ns.network === 'NODE') !== podHostNet) {
      add(f('namespace_options.network'), `${ns.network}, and the sandbox's network is ${podHostNet ? 'the node\'s' : 'its own'}: a container always has its sandbox's`);
    }
    const pid = namespaceMode('pid', String(ns.pid), pod, podNs?.pid === undefined ? undefined : String(podNs.pid), host, add);
    const ipc = namespaceMode('ipc', String(ns.ipc), pod, podNs?.ipc === undefined ? undefined : String(podNs.ipc), host, add);
    if (pid !== undefined || ipc !== undefined) cfg.namespaceModes = { ...(pid !== undefined ? { pid } : {}), ...(ipc !== undefined ? { ipc } : {}) };
    if (ns.userns_options && ns.userns_options.mode !== 'NODE') add(f('namespace_options.userns_options'), 'user namespaces are not supported: only mode NODE');
  }
  const se = sc.selinux_options;
  if (se && (se.user || se.role || se.type || se.level)) add(f('selinux_options'), 'SELinux is not enabled on this host');
  const uid = sc.run_as_user ? sc.run_as_user.value : undefined;
  const gid = sc.run_as_group ? sc.run_as_group.value : undefined;
  const user = uid ?? (sc.run_as_username || undefined);
  if (gid !== undefined && user === undefined) add(f('run_as_group'), 'a group without run_as_user or run_as_username');
  if (user !== undefined) cfg.user = gid !== undefined ? `${user}:${gid}` : user;
  cfg.readOnlyRootfs = sc.readonly_rootfs;
  if (sc.supplemental_groups.length) {
    cfg.groupAdd = sc.supplemental_groups.map((g, i) => {
      const n = Number(g);
      if (!Number.isSafeInteger(n) || n < 0) add(f(`supplemental_groups[${i}]`), `"${g}" is not a group ID`);
      return n;
    });
  }
  // containerd on a host without AppArmor: asking for no profile is fine, asking for one is an error.
  if (sc.apparmor ? sc.apparmor.profile_type !== 'Unconfined' : sc.apparmor_profile !== '' && sc.apparmor_profile !== 'unconfined') {
    add(sc.apparmor ? f('apparmor') : f('apparmor_profile'), 'AppArmor is not enabled on this host');
  }
  const profile = seccomp(sc, host, add);
  // containerd: a privileged container runs without seccomp, whatever profile was asked for.
  cfg.seccomp = sc.privileged ? 'unconfined' : profile === 'default' ? undefined : profile;
  cfg.noNewPrivileges = sc.no_new_privs;
  // Empty lists are proto3's "unset": the runtime's defaults stay (containerd's nil check).
  if (sc.masked_paths.length) cfg.maskedPaths = sc.masked_paths;
  if (sc.readonly_paths.length) cfg.readonlyPaths = sc.readonly_paths;
}

export function translateContainer(
  c: ContainerConfig__Output | null, pod: PodView, sandbox: PodSandboxConfig__Output | null, host: HostFacts,
  sandboxMeta: { name: string; namespace: string; uid: string },
): Translated {
  const problems: string[] = [];
  const add: Add = (field, message) => problems.push(`config.${field}: ${message}`);
  if (!c) throw invalidArgument('config: no container config');
  if (!c.metadata?.name) add('metadata.name', 'no name');
  if (!c.image?.image) add('image.image', 'no image named');
  const cfg = defaultContainerConfig();
  const notes: string[] = [];
  // Kubernetes' command is the entrypoint and args its arguments: the image's Cmd only when neither is given.
  if (c.command.length) {
    cfg.entrypoint = c.command;
    cfg.command = c.args;
  } else if (c.args.length) {
    cfg.command = c.args;
  }
  if (c.working_dir) {
    if (!isAbsolute(c.working_dir)) add('working_dir', `"${c.working_dir}" is not an absolute path`);
    cfg.workdir = c.working_dir;
  }
  c.envs.forEach((e, i) => {
    if (!e.key || e.key.includes('=')) add(`envs[${i}].key`, `"${e.key}" is not a variable name`);
    cfg.env.push(`${e.key}=${e.value}`);
  });
  c.mounts.forEach((m, i) => {
    if (!isAbsolute(m.container_path)) add(`mounts[${i}].container_path`, `"${m.container_path}" is not an absolute path`);
    if (!isAbsolute(m.host_path)) add(`mounts[${i}].host_path`, `"${m.host_path}" is not an absolute path`);
    const propagation = PROPAGATION[m.propagation];
    if (!propagation) add(`mounts[${i}].propagation`, `unknown propagation ${String(m.propagation)}`);
    // selinux_relabel: SELinux is not enabled here, so there is no label to give (containerd skips it the same way).
    // A missing host path is made as a directory, as containerd does.
    const mount: MountRequest = { type: 'bind', source: m.host_path, target: m.container_path, readOnly: m.readonly, propagation, createSource: true };
    cfg.mounts.push(mount);
  });
  cfg.devices = c.devices.map((d, i) => {
    if (!isAbsolute(d.host_path)) add(`devices[${i}].host_path`, `"${d.host_path}" is not an absolute path`);
    if (!isAbsolute(d.container_path)) add(`devices[${i}].container_path`, `"${d.container_path}" is not an absolute path`);
    if (!/^[rwm]*$/.test(d.permissions)) add(`devices[${i}].permissions`, `"${d.permissions}" is not made of r, w and m`);
    return { hostPath: d.host_path, containerPath: d.container_path, permissions: d.permissions || 'rwm' };
  });
  cfg.labels = { ...c.labels };
  cfg.annotations = { ...c.annotations };
  const logDir = sandbox?.log_directory || pod.annotations[KEYS.logDirectory] || '';
  if (c.log_path) {
    if (isAbsolute(c.log_path)) cfg.logPath = c.log_path;
    else if (logDir) cfg.logPath = `${logDir.replace(/\/+$/, '')}/${c.log_path}`;
    else add('log_path', `"${c.log_path}" is relative and the sandbox has no log_directory`);
  }
  cfg.openStdin = c.stdin;
  cfg.stdinOnce = c.stdin_once;
  cfg.tty = c.tty;
  if (c.windows) add('windows', 'a Windows container config on Linux');
  if (c.linux?.resources) resources(c.linux.resources, host, cfg, add, notes);
  if (c.linux?.security_context) {
    security(c.linux.security_context, pod, sandbox, host, cfg, add);
  } else {
    cfg.seccomp = 'unconfined';
  }
  // The pod's network ('host' for the node's): the pod layer has the container join the sandbox's namespace.
  cfg.networkMode = pod.network;
  if (problems.length) throw invalidArgument(problems.join('; '));
  return { name: containerName(c, sandboxMeta), image: c.image!.image, config: cfg, notes };
}
