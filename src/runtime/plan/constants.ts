// Kernel constants the plan names (sys/resource.h, linux/ioprio.h, sched(7)); clone flags are common's.
import { CLONE } from '../../common/linux-flags.js';

/** runtime-spec namespace type -> CLONE_NEW* flag and /proc/PID/ns/ name. */
export const NAMESPACE: Record<string, { flag: number; proc: string }> = {
  user: { flag: CLONE.NEWUSER, proc: 'user' },
  pid: { flag: CLONE.NEWPID, proc: 'pid' },
  network: { flag: CLONE.NEWNET, proc: 'net' },
  mount: { flag: CLONE.NEWNS, proc: 'mnt' },
  ipc: { flag: CLONE.NEWIPC, proc: 'ipc' },
  uts: { flag: CLONE.NEWUTS, proc: 'uts' },
  cgroup: { flag: CLONE.NEWCGROUP, proc: 'cgroup' },
  time: { flag: CLONE.NEWTIME, proc: 'time' },
};

export const RLIMIT_NUMBER: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** setrlimit(2): RLIM_INFINITY is all ones; config.json cannot say 2^64-1 exactly as a JSON number. */
export const RLIM_INFINITY = 18446744073709551615n;

export const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
export const IOPRIO_CLASS_SHIFT = 13;

export const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};
export const SCHED_FLAG: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

/** personality(2) */
export const PERSONALITY: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
