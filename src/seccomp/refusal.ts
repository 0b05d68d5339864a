// A step of the runtime's own that runs after the container's seccomp filter is loaded (without noNewPrivileges the
// filter goes in before the capabilities are dropped) can be refused by it. A bare "operation not permitted" then
// hides the cause: this says which filter, and which system call it may have refused.
import { constants } from 'node:os';
import type { LaunchError } from '../native/launcher.js';
import type { Step } from '../native/step.js';
import type { LinuxSeccomp } from '../oci/runtime-spec.js';
import { DEFAULT_ERRNO } from './actions.js';

/**
 * The errnos the filter can make a system call fail with: each SCMP_ACT_ERRNO's errnoRet (EPERM without one,
 * config-linux.md), and ENOSYS for SCMP_ACT_TRACE when no tracer is attached (seccomp(2)).
 */
export function refusalErrnos(seccomp: LinuxSeccomp): Set<number> {
  const errnos = new Set<number>();
  const add = (action: string, errnoRet: number | undefined) => {
    if (action === 'SCMP_ACT_ERRNO') errnos.add(errnoRet ?? DEFAULT_ERRNO);
    if (action === 'SCMP_ACT_TRACE') errnos.add(constants.errno.ENOSYS);
  };
  add(seccomp.defaultAction, seccomp.defaultErrnoRet);
  for (const rule of seccomp.syscalls ?? []) add(rule.action, rule.errnoRet);
  return errnos;
}

/**
 * Adds to `err`'s message when its step ran under the filter `plan` loads from `seccomp` (at `field`) and failed
 * with an errno that filter returns, naming the system call the helper reported.
 */
export function explainSeccompRefusal(err: LaunchError, plan: Step[], seccomp: LinuxSeccomp | undefined, field = 'linux.seccomp'): void {
  if (!seccomp || !err.syscall) return;
  const loadedAt = plan.findIndex((s) => s.op === 'seccomp-load');
  if (loadedAt < 0 || err.stepIndex <= loadedAt || !refusalErrnos(seccomp).has(err.errno)) return;
  const nnp = plan.some((s) => s.op === 'no-new-privs');
  err.message += `; the seccomp profile (${field}) is loaded before this step and may refuse ${err.syscall}: allow it there` +
    (nnp ? '' : ', or set noNewPrivileges, which loads the filter last, just before exec');
}
