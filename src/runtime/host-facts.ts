// What this host can do, detected once and passed to validation and plan building, so tests can describe another
// host without being on it.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { v1Hierarchies } from '../cgroups/v1.js';

import type { CgroupMode } from '../cgroups/types.js';

export type { CgroupMode };

export interface HostFacts {
  cgroupMode: CgroupMode;
  /** /proc/sys/kernel/cap_last_cap */
  capLastCap: number;
  /** Our effective capabilities as a mask (from /proc/self/status CapEff). */
  capEff: bigint;
  /** Our capability bounding set (CapBnd): no process we start outside a user namespace can hold a capability beyond it. */
  capBnd: bigint;
  /** Linux security modules found (/sys/kernel/security/lsm when securityfs is mounted). */
  lsms: string[];
  apparmor: boolean;
  selinux: boolean;
  /** /proc/self/ns/time exists (Linux 5.6, CONFIG_TIME_NS). */
  timeNamespace: boolean;
  /** openat2(2), Linux 5.6: skiff-init resolves in-root paths with it. */
  openat2: boolean;
  /** mount_setattr(2) with MOUNT_ATTR_IDMAP, Linux 5.12. */
  idmappedMounts: boolean;
  /** Our own hard rlimits (a runtime without CAP_SYS_RESOURCE cannot raise a container's above them). */
  hardRlimits: Record<string, number>;
  /** uname -r */
  kernel: string;
  kernelVersion: { major: number; minor: number };
  /** cgroup v1 controllers mounted on this host (cpu, memory, ...), for bind-mounting a container's own cgroups. */
  cgroupV1Hierarchies: string[];
}

const CGROUP2_SUPER_MAGIC = 0x63677270;
export const CAP_SYS_RESOURCE = 24;

export function detectCgroupMode(root = '/sys/fs/cgroup'): CgroupMode {
  if (statfsSync(root).type === CGROUP2_SUPER_MAGIC) return 'v2';
  return existsSync(`${root}/unified`) && statfsSync(`${root}/unified`).type === CGROUP2_SUPER_MAGIC ? 'hybrid' : 'v1';
}

const RLIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** Parses /proc/self/limits; "unlimited" becomes 2^64-1 as the kernel has it. */
function readHardRlimits(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
    const name = Object.keys(RLIMIT_NAMES).find((n) => line.startsWith(n));
    if (!name) continue;
    const hard = line.slice(name.length).trim().split(/\s+/)[1];
    out[RLIMIT_NAMES[name]] = hard === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(hard);
  }
  return out;
}

/** "6.18.44-fc" -> { major: 6, minor: 18 } */
export function parseKernelVersion(kernelRelease: string): { major: number; minor: number } {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : { major: 0, minor: 0 };
}

function atLeast(v: { major: number; minor: number }, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

function readLsms(): string[] {
  try {
    return readFileSync('/sys/kernel/security/lsm', 'utf8').trim().split(',').filter(Boolean);
  } catch {
    return [];
  }
}

export async function detectHostFacts(): Promise<HostFacts> {
  const status = readFileSync('/proc/self/status', 'utf8');
  const capSet = (name: string) => BigInt('0x' + (new RegExp(`^${name}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'));
  const capEff = capSet('CapEff');
  const kernel = release();
  const kernelVersion = parseKernelVersion(kernel);
  const lsms = readLsms();
  return {
    cgroupMode: detectCgroupMode(),
    capLastCap: Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()),
    capEff,
    capBnd: capSet('CapBnd'),
    lsms,
    // securityfs may not be mounted; the LSMs' own files say whether they are active.
    apparmor: lsms.includes('apparmor') || existsSync('/sys/kernel/security/apparmor'),
    selinux: lsms.includes('selinux') || existsSync('/sys/fs/selinux/enforce'),
    timeNamespace: existsSync('/proc/self/ns/time'),
    openat2: atLeast(kernelVersion, 5, 6),
    idmappedMounts: atLeast(kernelVersion, 5, 12),
    hardRlimits: readHardRlimits(),
    kernel,
    kernelVersion,
    cgroupV1Hierarchies: [...new Set(v1Hierarchies().values())].map((m) => m.replace('/sys/fs/cgroup/', '')),
  };
}

export function hasCapability(host: HostFacts, bit: number): boolean {
  return (host.capEff & (1n << BigInt(bit))) !== 0n;
}
