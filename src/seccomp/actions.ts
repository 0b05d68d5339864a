// runtime-spec seccomp names -> libseccomp values (seccomp.h of libseccomp 2.5), for the native helper.
import { constants } from 'node:os';

const ACTION_BASE: Record<string, number> = {
  SCMP_ACT_KILL: 0x00000000, SCMP_ACT_KILL_THREAD: 0x00000000, SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000, SCMP_ACT_ERRNO: 0x00050000, SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000, SCMP_ACT_ALLOW: 0x7fff0000, SCMP_ACT_NOTIFY: 0x7fc00000,
};

export const SECCOMP_ACTIONS = Object.keys(ACTION_BASE);

/** EPERM, what runc returns for SCMP_ACT_ERRNO without errnoRet. */
export const DEFAULT_ERRNO = constants.errno.EPERM;

/** The action as one 32-bit value, the errno (or trace message) folded into its low 16 bits. */
export function actionValue(action: string, errnoRet?: number): number {
  const base = ACTION_BASE[action];
  if (action === 'SCMP_ACT_ERRNO') return (base | ((errnoRet ?? DEFAULT_ERRNO) & 0xffff)) >>> 0;
  if (action === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? DEFAULT_ERRNO) & 0xffff)) >>> 0;
  return base >>> 0;
}

export const SECCOMP_OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};

/** OCI architecture names -> libseccomp's (seccomp_arch_resolve_name). */
export const SECCOMP_ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86', SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64', SCMP_ARCH_MIPS: 'mips', SCMP_ARCH_MIPS64: 'mips64', SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel', SCMP_ARCH_MIPSEL64: 'mipsel64', SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc', SCMP_ARCH_PPC64: 'ppc64', SCMP_ARCH_PPC64LE: 'ppc64le', SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x', SCMP_ARCH_PARISC: 'parisc', SCMP_ARCH_PARISC64: 'parisc64', SCMP_ARCH_RISCV64: 'riscv64',
};

/** seccomp(2) filter flags; the native helper passes them to the kernel itself (WAIT_KILLABLE_RECV needs 5.19). */
export const SECCOMP_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];
