// The steps that turn the cloned child into the configured process: identity, privileges, limits, exec.
// Shared by create and exec. Order follows runc's finalizeNamespace: limits and cwd while still privileged, then
// the bounding set, then the user switch with keepcaps, then the final capability sets.
import { capabilityMask } from '../../oci/capabilities.js';
import type { Process, Spec } from '../../oci/runtime-spec.js';
import { seccompSteps } from '../../seccomp/steps.js';
import { step, type Step } from './step.js';
import { DEFAULT_PATH, IOPRIO_CLASS, IOPRIO_CLASS_SHIFT, PERSONALITY, RLIM_INFINITY, RLIMIT_NUMBER, SCHED_FLAG, SCHED_POLICY } from './constants.js';

/** Limits, scheduling and cwd: applied while the child still has its privileges. */
export function privilegedSetupSteps(proc: Process, spec: Spec, isInit: boolean): Step[] {
  const steps: Step[] = [];
  steps.push(step('chdir', [proc.cwd], 'process.cwd', `chdir to ${proc.cwd}`));
  (proc.rlimits ?? []).forEach((r, i) => {
    const n = (v: number) => (v >= Number.MAX_SAFE_INTEGER ? RLIM_INFINITY : BigInt(v));
    steps.push(step('rlimit', [RLIMIT_NUMBER[r.type], n(r.soft), n(r.hard)], `process.rlimits[${i}]`, `set ${r.type}`));
  });
  if (proc.oomScoreAdj !== undefined) {
    steps.push(step('write', ['/proc/self/oom_score_adj', String(proc.oomScoreAdj)], 'process.oomScoreAdj', 'set oom_score_adj'));
  }
  if (isInit && spec.linux?.personality) {
    steps.push(step('personality', [PERSONALITY[spec.linux.personality.domain]], 'linux.personality', 'set personality'));
  }
  if (proc.ioPriority) {
    const v = (IOPRIO_CLASS[proc.ioPriority.class] << IOPRIO_CLASS_SHIFT) | proc.ioPriority.priority;
    steps.push(step('ioprio', [v], 'process.ioPriority', 'set I/O priority'));
  }
  if (proc.scheduler) {
    const s = proc.scheduler;
    const flags = (s.flags ?? []).reduce((m, f) => m | SCHED_FLAG[f], 0);
    steps.push(step('sched', [SCHED_POLICY[s.policy], flags, s.nice ?? 0, s.priority ?? 0, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0],
      'process.scheduler', `set scheduler ${s.policy}`));
  }
  return steps;
}

/**
 * Privilege drop and exec. Without no_new_privs, loading seccomp needs CAP_SYS_ADMIN, so the filter goes in before
 * the capabilities are dropped; with it, the filter is the very last thing before exec (runc does the same).
 * `beforeExec` are steps between `ready` and `exec` (exec-wait, startContainer hooks).
 */
export function privilegeAndExecSteps(proc: Process, spec: Spec, opts: { preserveFds: number; beforeExec: Step[] }): Step[] {
  const steps: Step[] = [];
  const seccomp = spec.linux?.seccomp ? seccompSteps(spec.linux.seccomp) : [];
  const nnp = Boolean(proc.noNewPrivileges);
  if (!nnp) steps.push(...seccomp);
  const caps = proc.capabilities ?? {};
  steps.push(step('capbset', [capabilityMask(caps.bounding)], 'process.capabilities.bounding', 'drop capabilities from the bounding set'));
  steps.push(step('keepcaps', [1]));
  const gids = (proc.user.additionalGids ?? []).join(',');
  steps.push(step('user', [proc.user.uid, proc.user.gid, gids], 'process.user', `switch to uid ${proc.user.uid} gid ${proc.user.gid}`));
  steps.push(step('keepcaps', [0]));
  steps.push(step('umask', [proc.user.umask ?? 0o022], 'process.user.umask', 'set umask'));
  // capabilities(7): a capability can be ambient only if it is also permitted and inheritable; runc leaves the
  // others out rather than fail, and so do we (the default spec lists ambient caps with no inheritable ones).
  const permitted = capabilityMask(caps.permitted), inheritable = capabilityMask(caps.inheritable);
  const ambient = capabilityMask(caps.ambient) & permitted & inheritable;
  steps.push(step('capset', [capabilityMask(caps.effective), permitted, inheritable, ambient], 'process.capabilities', 'set capabilities'));
  if (nnp) steps.push(step('no-new-privs', [], 'process.noNewPrivileges', 'set no_new_privs'));
  const env = proc.env ?? [];
  const pathVar = env.filter((e) => e.startsWith('PATH=')).pop()?.slice(5) ?? DEFAULT_PATH;
  const args = proc.args ?? [];
  steps.push(step('resolve-exec', [args[0], pathVar], 'process.args[0]', `find "${args[0]}"`));
  steps.push(step('close-fds', [3 + opts.preserveFds]));
  steps.push(step('ready'));
  steps.push(...opts.beforeExec);
  if (nnp) steps.push(...seccomp);
  steps.push(step('exec', [args.length, ...args, env.length, ...env], 'process.args', `exec ${args[0]}`));
  return steps;
}
