// Validates a whole config.json before anything touches the system, and reports EVERY problem with its JSON path
// (runtime-spec config.md and config-linux.md), including what this host cannot do.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { ValidationError, type Problem } from '../common/errors.js';
import { validateResources } from '../cgroups/validate.js';
import { CAP_SYS_RESOURCE, hasCapability, type HostFacts } from './host-facts.js';
import { validateSeccomp } from '../seccomp/validate.js';
import { capabilityBit } from '../oci/capabilities.js';
import { parseMountOptions, propagationFlag } from '../oci/mount-options.js';
import type { Process, Spec } from '../oci/runtime-spec.js';
import { isRuntimeNamespace, userNamespaceMaps } from './joined-namespaces.js';

export const RLIMITS = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC',
  'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
];
const NAMESPACES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
const SCHED_POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'];
const SCHED_FLAGS = ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX'];

type Json = Record<string, unknown>;

/**
 * The files under /proc a mount may cover (runc's checkProcMount, lxcfs's set). Anything else inside /proc could
 * hide the runtime's own masks or redirect writes to the host (CVE-2019-16884, CVE-2019-19921).
 */
const PROC_FILES_MOUNTABLE = [
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime', '/proc/loadavg',
  '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid',
];

/** rlimits are uint64 in the spec; 2^64-1 (RLIM_INFINITY) arrives as the double 2^64. */
const UINT64_MAX = 2 ** 64;
/** SemVer 2.0.0 (semver.org), which config.md requires of ociVersion. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Collects problems while walking a document. */
class Checker {
  readonly problems: Problem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  obj(v: unknown, path: string, required = false): v is Json {
    if (v === undefined) {
      if (required) this.add(path, 'is required');
      return false;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.add(path, 'must be an object');
      return false;
    }
    return true;
  }

  str(v: unknown, path: string, required = false): v is string {
    if (v === undefined) {
      if (required) this.add(path, 'is required');
      return false;
    }
    if (typeof v !== 'string') {
      this.add(path, 'must be a string');
      return false;
    }
    return true;
  }

  abs(v: unknown, path: string, required = false): v is string {
    if (!this.str(v, path, required)) return false;
    if (!v.startsWith('/')) {
      this.add(path, `must be an absolute path, not "${v}"`);
      return false;
    }
    return true;
  }

  bool(v: unknown, path: string): void {
    if (v !== undefined && typeof v !== 'boolean') this.add(path, 'must be true or false');
  }

  int(v: unknown, path: string, required = false, min = -Infinity, max = Infinity): v is number {
    if (v === undefined) {
      if (required) this.add(path, 'is required');
      return false;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.add(path, 'must be an integer');
      return false;
    }
    if (v < min || v > max) {
      const range = max === Infinity ? `at least ${min}` : min === -Infinity ? `at most ${max}` : `between ${min} and ${max}`;
      this.add(path, `must be ${range}, not ${v}`);
      return false;
    }
    return true;
  }

  arr(v: unknown, path: string, required = false): v is unknown[] {
    if (v === undefined) {
      if (required) this.add(path, 'is required');
      return false;
    }
    if (!Array.isArray(v)) {
      this.add(path, 'must be an array');
      return false;
    }
    return true;
  }

  strings(v: unknown, path: string, required = false): v is string[] {
    if (!this.arr(v, path, required)) return false;
    let ok = true;
    v.forEach((s, i) => { if (!this.str(s, `${path}[${i}]`, true)) ok = false; });
    return ok;
  }

  oneOf(v: unknown, path: string, allowed: string[], required = false): void {
    if (!this.str(v, path, required)) return;
    if (!allowed.includes(v)) this.add(path, `unknown value "${v}" (one of ${allowed.join(', ')})`);
  }

  idMappings(v: unknown, path: string): void {
    if (!this.arr(v, path)) return;
    v.forEach((m, i) => {
      const p = `${path}[${i}]`;
      if (!this.obj(m, p, true)) return;
      this.int(m.containerID, `${p}.containerID`, true, 0, 2 ** 32 - 1);
      this.int(m.hostID, `${p}.hostID`, true, 0, 2 ** 32 - 1);
      this.int(m.size, `${p}.size`, true, 1, 2 ** 32);
    });
  }
}

/** Labels and profiles are never ignored: either the host lacks the LSM, or skiff-init cannot apply it. */
function lsmProblem(lsm: 'AppArmor' | 'SELinux', enabled: boolean): string {
  return enabled
    ? `applying ${lsm} labels is not supported by skiff-runtime`
    : `${lsm} is not enabled on this host (${lsm === 'AppArmor' ? 'no /sys/kernel/security/apparmor' : 'no /sys/fs/selinux'})`;
}

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'];

/**
 * Why a process this runtime starts outside a user namespace cannot hold capability `bit` (undefined: it can). In a
 * user namespace of its own or joined, a process gets a full bounding set again (user_namespaces(7)).
 */
function capabilityMissing(host: HostFacts, bit: number): string | undefined {
  const has = (set: bigint) => (set >> BigInt(bit)) & 1n;
  if (!has(host.capBnd)) {
    return 'this host does not have it (it is not in the runtime\'s capability bounding set, CapBnd in /proc/self/status): only a container with a user namespace can hold it';
  }
  if (!has(host.capEff)) {
    return 'the runtime does not hold it (CapEff in /proc/self/status), so it cannot give it: only a container with a user namespace can hold it';
  }
  return undefined;
}

/**
 * The capability sets: names this kernel knows, that the host can give (`userns`: the process will be in a user
 * namespace), and the subsets capset(2) insists on, which would otherwise fail as a bare "operation not permitted".
 */
function checkCapabilities(c: Checker, caps: Json, path: string, host: HostFacts, userns: boolean): void {
  const listed = (set: string): string[] => (Array.isArray(caps[set]) ? caps[set] as string[] : []);
  const usable: Record<string, Set<string>> = {};
  for (const set of CAP_SETS) {
    usable[set] = new Set();
    if (!c.strings(caps[set], `${path}.${set}`)) continue;
    listed(set).forEach((n, i) => {
      const bit = capabilityBit(n);
      const missing = bit === undefined || userns ? undefined : capabilityMissing(host, bit);
      if (bit === undefined) c.add(`${path}.${set}[${i}]`, `unknown capability "${n}"`);
      else if (bit > host.capLastCap) c.add(`${path}.${set}[${i}]`, `${n} is not known to this kernel (cap_last_cap ${host.capLastCap})`);
      else if (missing) c.add(`${path}.${set}[${i}]`, `${n}: ${missing}`);
      else usable[set].add(n);
    });
  }
  // capset(2): the new effective set must be within the new permitted set, and the new inheritable set within the
  // bounding set (which the plan has already cut down to process.capabilities.bounding).
  for (const [set, of] of [['effective', 'permitted'], ['inheritable', 'bounding']]) {
    listed(set).forEach((n, i) => {
      if (usable[set].has(n) && !listed(of).includes(n)) {
        c.add(`${path}.${set}[${i}]`, `${n} is not in ${path}.${of}, and capset(2) allows no ${set} capability outside the ${of} set`);
      }
    });
  }
}

function checkProcess(c: Checker, p: unknown, path: string, host: HostFacts, userns: boolean): void {
  if (!c.obj(p, path, true)) return;
  c.bool(p.terminal, `${path}.terminal`);
  if (c.obj(p.consoleSize, `${path}.consoleSize`)) {
    c.int(p.consoleSize.height, `${path}.consoleSize.height`, true, 0, 65535);
    c.int(p.consoleSize.width, `${path}.consoleSize.width`, true, 0, 65535);
  }
  if (c.obj(p.user, `${path}.user`, true)) {
    const u = p.user;
    c.int(u.uid, `${path}.user.uid`, true, 0, 2 ** 32 - 2);
    c.int(u.gid, `${path}.user.gid`, true, 0, 2 ** 32 - 2);
    c.int(u.umask, `${path}.user.umask`, false, 0, 0o777);
    if (c.arr(u.additionalGids, `${path}.user.additionalGids`)) {
      u.additionalGids.forEach((g, i) => c.int(g, `${path}.user.additionalGids[${i}]`, true, 0, 2 ** 32 - 2));
    }
    if (u.username !== undefined) c.add(`${path}.user.username`, 'is for Windows containers; on Linux give user.uid and user.gid');
  }
  if (c.strings(p.args, `${path}.args`, true) && p.args.length === 0) c.add(`${path}.args`, 'must name the program to run');
  if (p.commandLine !== undefined) c.add(`${path}.commandLine`, 'is for Windows containers');
  if (c.strings(p.env, `${path}.env`)) {
    p.env.forEach((e, i) => { if (!e.includes('=')) c.add(`${path}.env[${i}]`, `"${e}" is not KEY=VALUE`); });
  }
  c.abs(p.cwd, `${path}.cwd`, true);
  if (c.obj(p.capabilities, `${path}.capabilities`)) checkCapabilities(c, p.capabilities, `${path}.capabilities`, host, userns);
  const canRaise = hasCapability(host, CAP_SYS_RESOURCE);
  if (c.arr(p.rlimits, `${path}.rlimits`)) {
    const seen = new Set<string>();
    p.rlimits.forEach((r, i) => {
      const rp = `${path}.rlimits[${i}]`;
      if (!c.obj(r, rp, true)) return;
      c.oneOf(r.type, `${rp}.type`, RLIMITS, true);
      if (typeof r.type === 'string') {
        if (seen.has(r.type)) c.add(`${rp}.type`, `${r.type} is set twice`);
        seen.add(r.type);
      }
      const soft = c.int(r.soft, `${rp}.soft`, true, 0, UINT64_MAX) ? r.soft as number : undefined;
      const hard = c.int(r.hard, `${rp}.hard`, true, 0, UINT64_MAX) ? r.hard as number : undefined;
      if (soft !== undefined && hard !== undefined && soft > hard) c.add(rp, `soft limit ${soft} is above hard limit ${hard}`);
      const hostHard = typeof r.type === 'string' ? host.hardRlimits[r.type] : undefined;
      if (!canRaise && hard !== undefined && hostHard !== undefined && hard > hostHard) {
        c.add(`${rp}.hard`, `${hard} is above this runtime's own hard limit ${hostHard}, and raising it needs CAP_SYS_RESOURCE, which this host does not give the runtime`);
      }
    });
  }
  c.bool(p.noNewPrivileges, `${path}.noNewPrivileges`);
  if (c.str(p.apparmorProfile, `${path}.apparmorProfile`) && p.apparmorProfile !== '') {
    c.add(`${path}.apparmorProfile`, lsmProblem('AppArmor', host.apparmor));
  }
  if (c.str(p.selinuxLabel, `${path}.selinuxLabel`) && p.selinuxLabel !== '') {
    c.add(`${path}.selinuxLabel`, lsmProblem('SELinux', host.selinux));
  }
  if (c.int(p.oomScoreAdj, `${path}.oomScoreAdj`, false, -1000, 1000) && (p.oomScoreAdj as number) < 0 && !canRaise) {
    c.add(`${path}.oomScoreAdj`, 'a negative value needs CAP_SYS_RESOURCE, which this host does not give the runtime');
  }
  if (c.obj(p.ioPriority, `${path}.ioPriority`)) {
    c.oneOf(p.ioPriority.class, `${path}.ioPriority.class`, ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'], true);
    c.int(p.ioPriority.priority, `${path}.ioPriority.priority`, true, 0, 7);
  }
  if (c.obj(p.scheduler, `${path}.scheduler`)) {
    const s = p.scheduler;
    c.oneOf(s.policy, `${path}.scheduler.policy`, SCHED_POLICIES, true);
    if (s.policy === 'SCHED_ISO') c.add(`${path}.scheduler.policy`, 'SCHED_ISO is not implemented by Linux');
    c.int(s.nice, `${path}.scheduler.nice`, false, -20, 19);
    c.int(s.priority, `${path}.scheduler.priority`, false, 0, 99);
    if (c.strings(s.flags, `${path}.scheduler.flags`)) s.flags.forEach((f, i) => c.oneOf(f, `${path}.scheduler.flags[${i}]`, SCHED_FLAGS));
    for (const k of ['runtime', 'deadline', 'period']) c.int(s[k], `${path}.scheduler.${k}`, false, 0);
  }
  if (p.execCPUAffinity !== undefined) c.add(`${path}.execCPUAffinity`, 'is not supported by skiff-runtime');
}

function checkMounts(c: Checker, mounts: unknown, host: HostFacts): void {
  if (!c.arr(mounts, 'mounts')) return;
  mounts.forEach((m, i) => {
    const p = `mounts[${i}]`;
    if (!c.obj(m, p, true)) return;
    if (c.abs(m.destination, `${p}.destination`, true)) checkProcDestination(c, m, p);
    c.str(m.type, `${p}.type`);
    c.str(m.source, `${p}.source`);
    const options = c.strings(m.options, `${p}.options`) ? m.options : [];
    options.forEach((o, j) => {
      for (const u of parseMountOptions([o]).unsupported) c.add(`${p}.options[${j}]`, u.why);
    });
    // config.md: bind sources are absolute or relative to the bundle, so any string will do; other mounts need a type.
    const bind = options.includes('bind') || options.includes('rbind') || m.type === 'bind';
    if (bind && (typeof m.source !== 'string' || m.source === '')) c.add(`${p}.source`, 'is required for a bind mount');
    if (!bind && (typeof m.type !== 'string' || m.type === '')) c.add(`${p}.type`, 'is required unless options contain "bind" or "rbind"');
    for (const key of ['uidMappings', 'gidMappings']) {
      if (m[key] === undefined) continue;
      c.idMappings(m[key], `${p}.${key}`);
      c.add(`${p}.${key}`, host.idmappedMounts
        ? 'idmapped mounts (mount_setattr(2) MOUNT_ATTR_IDMAP) are not supported by skiff-init'
        : `idmapped mounts need Linux 5.12 or later; this kernel is ${host.kernel}`);
    }
  });
}

function checkProcDestination(c: Checker, m: Json, p: string): void {
  const dest = posix.normalize(m.destination as string).replace(/(.)\/$/, '$1');
  if (dest === '/proc') {
    if (m.type !== 'proc') c.add(`${p}.type`, 'only a proc filesystem can be mounted on /proc');
  } else if (dest.startsWith('/proc/') && !PROC_FILES_MOUNTABLE.includes(dest)) {
    c.add(`${p}.destination`, `${dest} is inside /proc, where only ${PROC_FILES_MOUNTABLE.join(', ')} may be mounted over`);
  }
}

function checkHooks(c: Checker, hooks: unknown): void {
  if (!c.obj(hooks, 'hooks')) return;
  for (const [kind, list] of Object.entries(hooks)) {
    if (!HOOK_KINDS.includes(kind)) {
      c.add(`hooks.${kind}`, `unknown hook kind (one of ${HOOK_KINDS.join(', ')})`);
      continue;
    }
    if (!c.arr(list, `hooks.${kind}`)) continue;
    list.forEach((h, i) => {
      const p = `hooks.${kind}[${i}]`;
      if (!c.obj(h, p, true)) return;
      c.abs(h.path, `${p}.path`, true);
      c.strings(h.args, `${p}.args`);
      c.strings(h.env, `${p}.env`);
      c.int(h.timeout, `${p}.timeout`, false, 1);
    });
  }
}

/** The namespace a sysctl belongs to (runc's validator: IPC ones, net.*, the uts names); undefined = the host's. */
function sysctlNamespace(key: string): string | undefined {
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
    'kernel.shmmni', 'kernel.shm_rmid_forced'];
  if (ipc.includes(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}

/** A namespace entry of linux.namespaces: its index, and its path when it is joined. */
interface NamespaceEntry {
  index: number;
  path?: string;
}

/**
 * Why a setting of namespace `type` would change the host's: no such namespace is listed (config-linux.md: the
 * container then shares the runtime's), or the one joined is the runtime's own. undefined when it is the container's.
 */
function changesHost(types: Map<string, NamespaceEntry>, type: string): string | undefined {
  const ns = types.get(type);
  if (!ns) return `linux.namespaces has no ${type} namespace`;
  if (ns.path && isRuntimeNamespace(ns.path, type)) return `linux.namespaces[${ns.index}] joins the runtime's own ${type} namespace (${ns.path})`;
  return undefined;
}

/**
 * Id mappings with a joined user namespace: its maps are already written and cannot change. containerd and CRI-O
 * send them anyway, so, as runc does, mappings equal to the namespace's own are accepted and any others refused.
 */
function checkJoinedUserMappings(c: Checker, l: Json, user: NamespaceEntry): void {
  if (l.uidMappings === undefined && l.gidMappings === undefined) return;
  if (!user.path?.startsWith('/') || !existsSync(user.path)) return; // reported as the path's own problem, or by setns
  const maps = userNamespaceMaps(user.path);
  const show = (m: readonly unknown[]) => JSON.stringify((m as Json[]).map((e) => [e?.containerID, e?.hostID, e?.size]));
  for (const [key, own] of [['uidMappings', maps?.uid], ['gidMappings', maps?.gid]] as const) {
    if (!Array.isArray(l[key])) continue;
    if (!own) {
      c.add(`linux.${key}`, `cannot be checked against the user namespace joined at ${user.path}, which has no process to read its maps from; leave them out (a joined user namespace keeps its own)`);
    } else if (show(l[key]) !== show(own)) {
      c.add(`linux.${key}`, `${show(l[key])} differ from the maps of the user namespace joined at ${user.path} (${show(own)}), which cannot change; leave them out or make them equal`);
    }
  }
}

const ADD_MOUNT_NS = 'add {"type": "mount"} to linux.namespaces';

/**
 * Without a mount namespace of its own the container shares the runtime's (config-linux.md), and the root is only
 * changed with chroot(2). runc then makes every mount in the host's namespace, where they outlive the container;
 * here each field that needs a mount is refused instead.
 */
function checkWithoutMountNamespace(c: Checker, spec: Json, l: Json): void {
  const host = 'would be made in the host\'s mount namespace (linux.namespaces has no mount namespace), where it would outlive the container';
  if (Array.isArray(spec.mounts) && spec.mounts.length) c.add('mounts', `each mount ${host}; ${ADD_MOUNT_NS}`);
  if (c.obj(spec.root, 'root') && spec.root.readonly === true) {
    c.add('root.readonly', `a read-only root is a read-only bind mount of root.path, which ${host}; ${ADD_MOUNT_NS} or set it to false`);
  }
  for (const key of ['maskedPaths', 'readonlyPaths']) {
    if (Array.isArray(l[key]) && (l[key] as unknown[]).length) c.add(`linux.${key}`, `each path is covered by a mount, which ${host}; ${ADD_MOUNT_NS}`);
  }
  if (l.rootfsPropagation !== undefined) {
    c.add('linux.rootfsPropagation', `would change the propagation of the host's / (linux.namespaces has no mount namespace); ${ADD_MOUNT_NS}`);
  }
  if (Array.isArray(l.devices) && l.devices.length) {
    c.add('linux.devices', `device nodes are made in the /dev the container mounts, and without a mount namespace nothing is mounted; ${ADD_MOUNT_NS}`);
  }
}

function checkLinux(c: Checker, linux: unknown, spec: Json, host: HostFacts): void {
  // No linux object is a container with no namespace of its own, and no other Linux setting.
  if (linux !== undefined && !c.obj(linux, 'linux')) return;
  const l: Json = linux ?? {};
  const types = new Map<string, NamespaceEntry>();
  if (c.arr(l.namespaces, 'linux.namespaces')) {
    l.namespaces.forEach((n, i) => {
      const p = `linux.namespaces[${i}]`;
      if (!c.obj(n, p, true)) return;
      c.oneOf(n.type, `${p}.type`, NAMESPACES, true);
      c.abs(n.path, `${p}.path`);
      if (typeof n.type === 'string' && NAMESPACES.includes(n.type)) {
        if (types.has(n.type)) c.add(`${p}.type`, `namespace "${n.type}" is listed twice`);
        else types.set(n.type, { index: i, path: typeof n.path === 'string' ? n.path : undefined });
      }
      if (n.type === 'time' && !host.timeNamespace) c.add(`${p}.type`, `time namespaces are not supported by this kernel (${host.kernel}: no /proc/self/ns/time)`);
    });
  }
  const mount = types.get('mount');
  if (!mount) checkWithoutMountNamespace(c, spec, l);
  else if (mount.path && types.has('user') && !types.get('user')!.path) {
    // mount_namespaces(7): mounting needs CAP_SYS_ADMIN in the user namespace that owns the mount namespace, and a
    // new user namespace owns none that already exists.
    c.add(`linux.namespaces[${mount.index}].path`, 'the root filesystem cannot be set up in a joined mount namespace from a new user namespace, which has no privileges in it; join the user namespace that owns it too (by path), or create a new mount namespace');
  }
  const newUserns = types.has('user') && !types.get('user')!.path;
  if (newUserns) {
    if (!Array.isArray(l.uidMappings) || l.uidMappings.length === 0) c.add('linux.uidMappings', 'is required with a new user namespace');
    if (!Array.isArray(l.gidMappings) || l.gidMappings.length === 0) c.add('linux.gidMappings', 'is required with a new user namespace');
  } else if (types.has('user')) {
    checkJoinedUserMappings(c, l, types.get('user')!);
  } else if (l.uidMappings !== undefined || l.gidMappings !== undefined) {
    c.add(l.uidMappings !== undefined ? 'linux.uidMappings' : 'linux.gidMappings', 'id mappings need a new user namespace in linux.namespaces');
  }
  c.idMappings(l.uidMappings, 'linux.uidMappings');
  c.idMappings(l.gidMappings, 'linux.gidMappings');
  for (const key of ['hostname', 'domainname']) {
    const why = typeof spec[key] === 'string' && spec[key] !== '' ? changesHost(types, 'uts') : undefined;
    if (why) c.add(key, `setting the ${key} would change the host's: ${why} (list a new uts namespace, or join the container's by path)`);
  }
  if (l.timeOffsets !== undefined && !(types.has('time') && !types.get('time')!.path)) {
    c.add('linux.timeOffsets', 'needs a new time namespace in linux.namespaces');
  }
  if (c.obj(l.timeOffsets, 'linux.timeOffsets')) {
    for (const [clock, off] of Object.entries(l.timeOffsets)) {
      const p = `linux.timeOffsets.${clock}`;
      if (clock !== 'monotonic' && clock !== 'boottime') c.add(p, 'only monotonic and boottime clocks can be offset');
      if (c.obj(off, p, true)) {
        c.int(off.secs, `${p}.secs`);
        c.int(off.nanosecs, `${p}.nanosecs`, false, 0, 999_999_999);
      }
    }
  }
  if (c.arr(l.devices, 'linux.devices')) {
    const paths = new Set<string>();
    l.devices.forEach((d, i) => {
      const p = `linux.devices[${i}]`;
      if (!c.obj(d, p, true)) return;
      if (c.abs(d.path, `${p}.path`, true)) {
        if (paths.has(d.path)) c.add(`${p}.path`, `${d.path} is listed twice`);
        paths.add(d.path);
      }
      c.oneOf(d.type, `${p}.type`, ['c', 'b', 'u', 'p'], true);
      if (d.type !== 'p') {
        c.int(d.major, `${p}.major`, true, 0);
        c.int(d.minor, `${p}.minor`, true, 0);
      }
      c.int(d.fileMode, `${p}.fileMode`, false, 0, 0o7777);
      c.int(d.uid, `${p}.uid`, false, 0);
      c.int(d.gid, `${p}.gid`, false, 0);
    });
  }
  if (c.str(l.cgroupsPath, 'linux.cgroupsPath')) {
    if (/^[^/:]*:[^:]*:[^:]*$/.test(l.cgroupsPath)) {
      c.add('linux.cgroupsPath', `"${l.cgroupsPath}" is a systemd slice path; the systemd cgroup driver is not supported (use a cgroupfs path such as /skiff/ID)`);
    } else if (l.cgroupsPath.split('/').includes('..')) {
      c.add('linux.cgroupsPath', `"${l.cgroupsPath}" must not contain ".." (it would leave the cgroup hierarchy it names)`);
    }
  }
  if (l.resources !== undefined) {
    for (const p of validateResources(l.resources, 'linux.resources', host.cgroupMode)) c.add(p.path, p.message);
  }
  if (c.obj(l.sysctl, 'linux.sysctl')) {
    for (const [k, v] of Object.entries(l.sysctl)) {
      const p = `linux.sysctl["${k}"]`;
      c.str(v, p, true);
      const ns = sysctlNamespace(k);
      const why = ns && changesHost(types, ns);
      if (!/^[a-z0-9_]+([./][a-z0-9_\-]+)*$/i.test(k)) c.add(p, 'is not a sysctl name');
      else if (!ns) c.add(p, 'is not namespaced: it would change the host');
      else if (why) c.add(p, `would change the host's: ${why} (list a new ${ns} namespace, or join the container's by path)`);
    }
  }
  if (l.seccomp !== undefined) for (const p of validateSeccomp(l.seccomp, 'linux.seccomp')) c.add(p.path, p.message);
  if (c.str(l.rootfsPropagation, 'linux.rootfsPropagation') && (propagationFlag(l.rootfsPropagation) === undefined)) {
    c.add('linux.rootfsPropagation', `unknown propagation "${l.rootfsPropagation}"`);
  }
  if (c.strings(l.maskedPaths, 'linux.maskedPaths')) l.maskedPaths.forEach((m, i) => c.abs(m, `linux.maskedPaths[${i}]`));
  if (c.strings(l.readonlyPaths, 'linux.readonlyPaths')) l.readonlyPaths.forEach((m, i) => c.abs(m, `linux.readonlyPaths[${i}]`));
  if (c.str(l.mountLabel, 'linux.mountLabel') && l.mountLabel !== '') c.add('linux.mountLabel', lsmProblem('SELinux', host.selinux));
  if (l.intelRdt !== undefined) c.add('linux.intelRdt', 'Intel RDT (resctrl) is not supported by skiff-runtime');
  if (l.netDevices !== undefined) c.add('linux.netDevices', 'moving host network devices into the container is not supported by skiff-runtime');
  if (c.obj(l.personality, 'linux.personality')) {
    c.oneOf(l.personality.domain, 'linux.personality.domain', ['LINUX', 'LINUX32'], true);
    if (c.strings(l.personality.flags, 'linux.personality.flags') && l.personality.flags.length) {
      c.add('linux.personality.flags', 'personality flags are not defined by the runtime spec yet');
    }
  }
}

/** The whole config.json; throws a ValidationError listing every problem. */
export function validateSpec(json: unknown, host: HostFacts, source = 'config.json'): Spec {
  const c = new Checker();
  if (!c.obj(json, '$', true)) throw new ValidationError(source, c.problems);
  if (c.str(json.ociVersion, 'ociVersion', true) && !SEMVER.test(json.ociVersion)) {
    c.add('ociVersion', `"${json.ociVersion}" is not a SemVer 2.0.0 version`);
  } else if (typeof json.ociVersion === 'string' && !json.ociVersion.startsWith('1.')) {
    c.add('ociVersion', `version ${json.ociVersion} is not supported (this runtime implements 1.x)`);
  }
  if (c.obj(json.root, 'root', true)) {
    if (c.str(json.root.path, 'root.path', true) && json.root.path === '') c.add('root.path', 'must not be empty');
    c.bool(json.root.readonly, 'root.readonly');
  }
  const namespaces = (json.linux as Json | undefined)?.namespaces;
  const userns = Array.isArray(namespaces) && namespaces.some((n) => (n as Json)?.type === 'user');
  checkProcess(c, json.process, 'process', host, userns);
  c.str(json.hostname, 'hostname');
  c.str(json.domainname, 'domainname');
  checkMounts(c, json.mounts, host);
  checkHooks(c, json.hooks);
  if (c.obj(json.annotations, 'annotations')) {
    for (const [k, v] of Object.entries(json.annotations)) c.str(v, `annotations["${k}"]`, true);
  }
  checkLinux(c, json.linux, json, host);
  if (c.problems.length) throw new ValidationError(source, c.problems);
  return json as unknown as Spec;
}

/** A process for exec (process.json or built from flags), into a container that has a user namespace or not. */
export function validateProcess(json: unknown, source: string, host: HostFacts, opts: { userNamespace: boolean }): Process {
  const c = new Checker();
  checkProcess(c, json, 'process', host, opts.userNamespace);
  if (c.problems.length) throw new ValidationError(source, c.problems);
  return json as Process;
}
