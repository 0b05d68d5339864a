// The default seccomp profile containers get from docker, podman and containerd: an allow-list whose default is
// ERRNO(EPERM), widened by the capabilities the container holds (a syscall a capability exists to permit is allowed
// only with that capability), with argument filters for socket, personality and clone.
import type { LinuxSeccomp, LinuxSyscall } from '../oci/runtime-spec.js';

/** Syscalls every container may make, whatever its capabilities. */
const ALWAYS_ALLOWED = [
  // files and directories
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat', 'dup', 'dup2',
  'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir', 'fchmod', 'fchmodat', 'fchown',
  'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs',
  'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64', 'futimesat', 'getcwd', 'getdents', 'getdents64', 'lchown',
  'lchown32', 'link', 'linkat', '_llseek', 'lseek', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat',
  'name_to_handle_at', 'newfstatat', 'open', 'openat', 'openat2', 'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev',
  'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'rename', 'renameat', 'renameat2', 'rmdir',
  'sendfile', 'sendfile64', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync',
  'sync_file_range', 'syncfs', 'tee', 'truncate', 'truncate64', 'umask', 'unlink', 'unlinkat', 'utime', 'utimensat',
  'utimensat_time64', 'utimes', 'vmsplice', 'write', 'writev',
  // extended attributes
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr', 'llistxattr',
  'lremovexattr', 'lsetxattr', 'removexattr', 'setxattr',
  // waiting for events: poll, select, epoll, inotify, fanotify marks, eventfd, signalfd, timerfd, async I/O
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait',
  'epoll_wait_old', 'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch', 'inotify_init', 'inotify_init1',
  'inotify_rm_watch', 'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup',
  'io_submit', 'io_uring_enter', 'io_uring_register', 'io_uring_setup', 'ioctl', '_newselect', 'pause', 'pipe', 'pipe2',
  'poll', 'ppoll', 'ppoll_time64', 'pselect6', 'pselect6_time64', 'select', 'signalfd', 'signalfd4', 'timerfd_create',
  'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
  // memory
  'brk', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2', 'mlockall', 'mmap',
  'mmap2', 'mprotect', 'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc', 'pkey_free', 'pkey_mprotect',
  'remap_file_pages',
  // processes, threads and signals (clone is filtered below)
  'execve', 'execveat', 'exit', 'exit_group', 'fork', 'futex', 'futex_time64', 'futex_waitv', 'get_robust_list',
  'get_thread_area', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getsid', 'gettid', 'kill', 'pidfd_open',
  'pidfd_send_signal', 'prctl', 'process_mrelease', 'restart_syscall', 'rseq', 'rt_sigaction', 'rt_sigpending',
  'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64',
  'rt_tgsigqueueinfo', 'set_robust_list', 'set_thread_area', 'set_tid_address', 'setpgid', 'setsid', 'sigaltstack',
  'sigprocmask', 'sigreturn', 'tgkill', 'tkill', 'vfork', 'wait4', 'waitid', 'waitpid',
  // identity, limits and capabilities (the kernel still checks CAP_SETUID and friends)
  'capget', 'capset', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32',
  'getpriority', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getrlimit', 'getrusage', 'getuid', 'getuid32',
  'ioprio_get', 'ioprio_set', 'prlimit64', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid', 'setgid32',
  'setgroups', 'setgroups32', 'setpriority', 'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid',
  'setresuid32', 'setreuid', 'setreuid32', 'setrlimit', 'setuid', 'setuid32', 'ugetrlimit',
  // scheduling
  'getcpu', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_getaffinity', 'sched_getattr', 'sched_getparam',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr',
  'sched_setparam', 'sched_setscheduler', 'sched_yield',
  // time (setting the clock needs CAP_SYS_TIME, below; adjtimex without it only reads)
  'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime',
  'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'getitimer', 'gettimeofday', 'nanosleep', 'setitimer',
  'time', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime',
  'timer_settime64', 'times',
  // sockets (socket itself is filtered below)
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv', 'recvfrom',
  'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt', 'shutdown',
  'socketcall', 'socketpair',
  // System V and POSIX IPC
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
  'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop',
  'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget',
  // the rest: randomness, system information, self-sandboxing
  'getrandom', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'seccomp', 'sysinfo', 'uname',
];

/** Syscalls a capability exists to permit: allowed only when the container holds it. */
const BY_CAPABILITY: Record<string, string[]> = {
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  // Mounts, namespaces, hostnames, BPF, perf: everything CAP_SYS_ADMIN guards, clone and clone3 unfiltered.
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount',
    'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname',
    'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'finit_module', 'init_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['ioperm', 'iopl'],
  CAP_SYS_TIME: ['clock_settime', 'clock_settime64', 'settimeofday', 'stime'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/**
 * Node's process.arch -> the filter's architectures (the native one first, then those its binaries may also run:
 * 32-bit x86 and x32 on x86_64) and the syscalls that exist only there.
 */
const HOST_ARCHES: Record<string, { architectures: string[]; syscalls: string[] }> = {
  x64: { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: ['arch_prctl', 'modify_ldt'] },
  ia32: { architectures: ['SCMP_ARCH_X86'], syscalls: ['modify_ldt'] },
  arm64: {
    architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: ['arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'set_tls', 'sync_file_range2'],
  },
  arm: {
    architectures: ['SCMP_ARCH_ARM'],
    syscalls: ['arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'set_tls', 'sync_file_range2'],
  },
  ppc64: { architectures: ['SCMP_ARCH_PPC64LE'], syscalls: ['swapcontext', 'sync_file_range2'] },
  s390x: { architectures: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'], syscalls: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'] },
  riscv64: { architectures: ['SCMP_ARCH_RISCV64'], syscalls: ['riscv_flush_icache'] },
  mips64el: { architectures: ['SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'], syscalls: [] },
};

/** AF_VSOCK (socket(2) domain 40): a way to the hypervisor's host, not the container's network. */
const AF_VSOCK = 40;

/**
 * personality(2) values a program may set: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and 0xffffffff,
 * which only queries. Anything else (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC...) weakens the process's protections.
 */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/**
 * CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWCGROUP (clone(2)).
 * CLONE_NEWTIME (0x80) is not among them: clone(2) cannot take it, its bits are the exit signal's.
 */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const ENOSYS = 38;

function allow(names: string[], args?: LinuxSyscall['args']): LinuxSyscall {
  return args ? { names, action: 'SCMP_ACT_ALLOW', args } : { names, action: 'SCMP_ACT_ALLOW' };
}

/**
 * The profile for a container holding `capabilities` (its bounding set, names like "CAP_SYS_ADMIN") on a host of
 * `arch` (Node's process.arch names). Unknown arches get the profile without arch-specific syscalls and without
 * `architectures`, which leaves the filter to the native one.
 */
export function defaultSeccompProfile(capabilities: string[], arch: string = process.arch): LinuxSeccomp {
  const caps = new Set(capabilities);
  const host = HOST_ARCHES[arch];
  const syscalls: LinuxSyscall[] = [allow([...ALWAYS_ALLOWED].sort())];
  if (host?.syscalls.length) syscalls.push(allow(host.syscalls));
  syscalls.push(allow(['socket'], [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }]));
  // One rule per value: two conditions on one argument would be ANDed by the filter and could never both hold.
  for (const value of PERSONALITIES) syscalls.push(allow(['personality'], [{ index: 0, value, op: 'SCMP_CMP_EQ' }]));
  for (const [cap, names] of Object.entries(BY_CAPABILITY)) if (caps.has(cap)) syscalls.push(allow(names));
  if (!caps.has('CAP_SYS_ADMIN')) {
    // clone(2) without namespace flags. s390 passes the stack first and the flags second.
    const flagsIndex = arch === 's390x' ? 1 : 0;
    syscalls.push(allow(['clone'], [{ index: flagsIndex, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }]));
    // clone3 passes its flags in memory, which a filter cannot read; ENOSYS makes glibc fall back to clone.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1 };
  if (host) profile.architectures = [...host.architectures];
  profile.syscalls = syscalls;
  return profile;
}
