// create: config.json -> the launch plan of the container's init (docs/launch-plan.md). Pure: no I/O.
// The order is runc's (libcontainer/standard_init_linux.go, rootfs_linux.go): namespaces, mounts, hooks, pivot_root,
// devices, console, read-only root, hostname, sysctls, read-only and masked paths, limits, no_new_privs, seccomp
// (when no_new_privs is off), privileges, then wait for start, startContainer hooks, seccomp (when on), exec.
// The host paths the child needs (exec fifo, console socket, seccomp listener) are opened first, before a joined
// mount namespace or the new root hides them.
import { containerDeviceRules } from '../../cgroups/device-rules.js';
import { deviceFilterProgram } from '../../cgroups/device-filter.js';
import { MS } from '../../common/linux-flags.js';
import type { Spec } from '../../oci/runtime-spec.js';
import type { HostFacts } from '../host-facts.js';
import { CLONE } from '../../common/linux-flags.js';
import { NAMESPACE } from './constants.js';
import { afterPivotSteps, mountSteps, unbindableSteps, type BindSourceKinds } from './mount-steps.js';
import { finalProcessSteps, hookStep, processSetupSteps } from './process-steps.js';
import { step, type Step } from '../../native/step.js';

export interface CreatePlanOptions {
  containerId: string;
  bundle: string;
  /** Absolute: bundle + root.path unless that is absolute. */
  rootfs: string;
  /** Resolved cgroups path (/skiff/ID by default). */
  cgroupsPath: string;
  /**
   * The child moves itself into its cgroup through these files (CgroupManager.selfJoinFiles), right after the clone
   * and before anything else; absent: the runtime moves it when the helper reports its pid.
   */
  cgroupSelfJoin?: string[];
  parentMode: 'exit' | 'wait' | 'monitor';
  /** With parent mode `monitor`: what the monitor holds and writes. */
  monitor?: MonitorPlan;
  /** Present for create: the process waits on it for `start`. Absent when create and start are one operation. */
  execFifo?: string;
  /** With process.terminal: the socket that receives the pty master; '' = the parent (`wait` or `monitor`) holds it. */
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** Bring `lo` up in the container's new network namespace (what docker's --network none gives). */
  loopbackUp?: boolean;
  preserveFds?: number;
  /** From statBindSources(spec, bundle). */
  bindSourceKinds: BindSourceKinds;
  /** From bindSourceFlags(spec, bundle): in a new user namespace, remounts of binds keep the source's locked flags. */
  bindSourceFlags?: Record<string, number>;
}

/** The `monitor` step's arguments (docs/launch-plan.md); MonitorOptions (create.ts) says what each one means. */
export interface MonitorPlan {
  /** The native helper's binary on disk, which the monitor runs from. */
  exe: string;
  logPath: string;
  logMaxSize: number;
  logMaxFiles: number;
  exitFile: string;
  attachSocket: string;
  stdin: boolean;
  /** The cgroup file with an `oom_kill N` line ('' = none). */
  oomFile: string;
  /** MonitorOptions.exitOwnerFile, or ''. */
  exitOwner: string;
  exitCommand: string[];
  exitCommandEnv: string[];
}

export function monitorStep(m: MonitorPlan, terminal: boolean): Step {
  return step('monitor', [
    m.exe, m.logPath, m.logMaxSize, m.logMaxFiles, m.exitFile, m.attachSocket, m.stdin ? 1 : 0, terminal ? 1 : 0, m.oomFile,
    m.exitOwner, m.exitCommand.length, ...m.exitCommand, m.exitCommandEnv.length, ...m.exitCommandEnv,
  ], undefined, 'start the monitor');
}

/** The seccomp listener is a host path: its connection is made while that path is still reachable. */
export function listenerConnectSteps(spec: Spec): Step[] {
  const path = spec.linux?.seccomp?.listenerPath;
  return path ? [step('seccomp-connect', [path], 'linux.seccomp.listenerPath', `connect to seccomp listener ${path}`)] : [];
}

/**
 * setns(2) in the parent, before clone: the user namespace first, so the others are joined with its privileges. A
 * joined mount namespace is not among them: the child joins it (mountJoinStep) once it has opened the host paths it
 * needs, since every path after the join is resolved in that namespace.
 */
export function joinSteps(spec: Spec): Step[] {
  const joins = (spec.linux?.namespaces ?? []).map((n, i) => ({ ...n, i })).filter((n) => n.path && n.type !== 'mount');
  joins.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  return joins.map((n) => step('setns', [n.path!, NAMESPACE[n.type].flag], `linux.namespaces[${n.i}]`, `join ${n.type} namespace ${n.path}`));
}

/**
 * Joining a mount namespace by path (runc's nsexec joins it too): the root filesystem is then set up inside it, and
 * root.path and bind sources are resolved there, as runc resolves them.
 */
function mountJoinStep(spec: Spec): Step[] {
  const i = (spec.linux?.namespaces ?? []).findIndex((n) => n.type === 'mount' && n.path);
  if (i < 0) return [];
  const path = spec.linux!.namespaces![i].path!;
  return [step('setns', [path, CLONE.NEWNS], `linux.namespaces[${i}]`, `join mount namespace ${path}`)];
}

function hasNew(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type && !n.path);
}

function namespaceField(spec: Spec, type: string): string {
  return `linux.namespaces[${(spec.linux?.namespaces ?? []).findIndex((n) => n.type === type)}]`;
}

function cloneFlags(spec: Spec): number {
  let flags = 0;
  // clone(2) does not take CLONE_NEWTIME (it is unshared before, and applies to children), and CLONE_NEWCGROUP
  // must wait until the runtime has moved the child into its cgroup, which becomes the namespace's root.
  for (const n of spec.linux?.namespaces ?? []) {
    if (!n.path && n.type !== 'time' && n.type !== 'cgroup') flags |= NAMESPACE[n.type].flag;
  }
  return flags;
}

/** Steps in the parent: the exec fifo, the v2 device filter, joined namespaces, the time namespace, clone. */
function parentSteps(spec: Spec, host: HostFacts, opts: CreatePlanOptions): Step[] {
  const steps: Step[] = [];
  // First: the monitor forks off here, so it never enters the namespaces the plan joins below.
  if (opts.parentMode === 'monitor') {
    if (!opts.monitor) throw new Error('parent mode "monitor" needs the monitor\'s options');
    steps.push(monitorStep(opts.monitor, Boolean(spec.process?.terminal)));
  }
  steps.push(...cgroupOpenSteps(opts.cgroupSelfJoin));
  // Node has no mkfifo(3); the helper makes the exec fifo (fifo(7)), which `start` opens to release the process.
  if (opts.execFifo) steps.push(step('mkfifo', [opts.execFifo, 0o622], undefined, 'create the exec fifo'));
  const deviceRules = containerDeviceRules(spec.linux?.resources?.devices, spec.linux?.devices);
  if (host.cgroupMode === 'v2' && deviceRules?.length) {
    steps.push(step('bpf-devices', [`/sys/fs/cgroup${opts.cgroupsPath}`, deviceFilterProgram(deviceRules).toString('hex')],
      'linux.resources.devices', 'attach the device filter'));
  }
  steps.push(...joinSteps(spec));
  if (hasNew(spec, 'time')) {
    steps.push(step('unshare', [CLONE.NEWTIME], namespaceField(spec, 'time'), 'create the time namespace'));
    const offsets = Object.entries(spec.linux?.timeOffsets ?? {})
      .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`).join('');
    // time_namespaces(7): offsets can only be written before the first process enters the namespace.
    if (offsets) steps.push(step('write', ['/proc/self/timens_offsets', offsets], 'linux.timeOffsets', 'set time offsets'));
  }
  steps.push(step('clone', [cloneFlags(spec), opts.parentMode], 'linux.namespaces', 'create the container process'));
  return steps;
}

/**
 * A child that moves itself into its cgroup (CgroupManager.selfJoinFiles): the parent opens the files first, before
 * any namespace join could hide them (exec joins the container's mount namespace before its clone), and the child's
 * first step writes 0 to each. None without files.
 */
export function cgroupOpenSteps(files: string[] | undefined): Step[] {
  return (files ?? []).map((f) => step('cgroup-open', [f], 'linux.cgroupsPath', `open ${f}`));
}

export function cgroupJoinSteps(files: string[] | undefined): Step[] {
  return files?.length ? [step('cgroup-join', [], 'linux.cgroupsPath', 'join the cgroup')] : [];
}

export function buildCreatePlan(spec: Spec, host: HostFacts, opts: CreatePlanOptions): Step[] {
  const proc = spec.process!;
  // New or joined: either way mknod(2) is not allowed and copied mounts keep locked flags (mount_namespaces(7)).
  const userns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user');
  // A mount namespace of its own, new or joined. Without one (config-linux.md: a namespace not listed is the
  // runtime's) nothing is mounted and the root is changed with chroot(2), as runc does.
  const mountNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'mount');
  const terminal = Boolean(proc.terminal);
  if (terminal && opts.consoleSocket === undefined) {
    throw new Error('process.terminal needs a console socket (or a parent that proxies the terminal)');
  }
  const steps = parentSteps(spec, host, opts);

  // ---- in the child: the runtime has written our id maps and moved us into our cgroup, or we move ourselves ----
  steps.push(...cgroupJoinSteps(opts.cgroupSelfJoin));
  if (hasNew(spec, 'cgroup')) steps.push(step('unshare', [CLONE.NEWCGROUP], namespaceField(spec, 'cgroup'), 'create the cgroup namespace'));
  // Our uid (the host's root) need not be mapped in a joined user namespace: become its root, as runc's nsexec does.
  if (userns) {
    const field = hasNew(spec, 'user') ? 'linux.uidMappings' : namespaceField(spec, 'user');
    steps.push(step('user', [0, 0, ''], field, 'become root in the user namespace'));
  }
  // The console step makes its own session (it needs one to take a controlling terminal).
  if (!terminal) steps.push(step('setsid', [], undefined, 'start a session'));
  if (!opts.noNewKeyring) steps.push(step('keyring', [`_ses.${opts.containerId}`], undefined, 'join a new session keyring'));
  // Host paths, opened while they can still be reached.
  if (opts.execFifo) steps.push(step('exec-fifo', [opts.execFifo], undefined, 'open the exec fifo'));
  if (terminal) steps.push(step('console-connect', [opts.consoleSocket!], 'process.terminal', `connect to console socket ${opts.consoleSocket}`));
  steps.push(...listenerConnectSteps(spec));
  steps.push(...mountJoinStep(spec));

  if (mountNs) {
    steps.push(...mountSteps(spec, {
      bundle: opts.bundle, rootfs: opts.rootfs, host, bindSourceKinds: opts.bindSourceKinds, bindSourceFlags: opts.bindSourceFlags,
      cgroupsPath: opts.cgroupsPath, userns,
    }));
  }
  const hooks = spec.hooks ?? {};
  if (hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length) {
    steps.push(step('sync', ['hooks'], 'hooks', 'run prestart, createRuntime and createContainer hooks'));
  }
  if (mountNs) {
    steps.push(opts.noPivot
      ? step('move-root', [opts.rootfs], 'root.path', `move ${opts.rootfs} to / and chroot`)
      : step('pivot-root', [opts.rootfs], 'root.path', `pivot_root to ${opts.rootfs}`));
    steps.push(...afterPivotSteps(spec, userns));
  }
  if (terminal) {
    const size = proc.consoleSize;
    steps.push(step('console', [size?.height ?? 0, size?.width ?? 0], 'process.terminal', 'set up the terminal'));
  }
  if (mountNs && spec.root?.readonly) {
    steps.push(step('mount', ['', '/', '', MS.REMOUNT | MS.BIND | MS.RDONLY, ''], 'root.readonly', 'make the root filesystem read-only'));
  }
  if (opts.loopbackUp && hasNew(spec, 'network')) steps.push(step('loopback-up', [], namespaceField(spec, 'network'), 'bring lo up'));
  if (spec.hostname) steps.push(step('hostname', [spec.hostname], 'hostname', `set hostname ${spec.hostname}`));
  if (spec.domainname) steps.push(step('domainname', [spec.domainname], 'domainname', `set domainname ${spec.domainname}`));
  for (const [k, v] of Object.entries(spec.linux?.sysctl ?? {})) {
    steps.push(step('write', [`/proc/sys/${k.replace(/\./g, '/')}`, v], `linux.sysctl["${k}"]`, `set sysctl ${k}`));
  }
  (spec.linux?.readonlyPaths ?? []).forEach((p, i) => steps.push(step('readonly', [p], `linux.readonlyPaths[${i}]`, `make ${p} read-only`)));
  (spec.linux?.maskedPaths ?? []).forEach((p, i) => steps.push(step('mask', [p], `linux.maskedPaths[${i}]`, `mask ${p}`)));
  if (mountNs) steps.push(...unbindableSteps(spec));
  steps.push(...processSetupSteps(proc, spec.linux?.personality));
  // Without a mount namespace the root changes as late as it can: the steps above still use the runtime's /proc
  // (sysctls, which /proc/sys shows for the namespaces of the process that opens it; oom_score_adj) and /dev (the
  // terminal), which the container's root has no mounts for. It precedes seccomp, which may not allow chroot(2), and
  // the capability drop (CAP_SYS_CHROOT).
  if (!mountNs) steps.push(step('chroot', [opts.rootfs], 'root.path', `chroot to ${opts.rootfs}`));

  const beforeExec: Step[] = [];
  if (opts.execFifo) beforeExec.push(step('exec-wait', [], undefined, 'wait for start'));
  (hooks.startContainer ?? []).forEach((h, i) => beforeExec.push(hookStep(h, `hooks.startContainer[${i}]`)));
  steps.push(...finalProcessSteps(proc, spec.linux?.seccomp, { preserveFds: opts.preserveFds ?? 0, beforeExec }));
  return steps;
}
