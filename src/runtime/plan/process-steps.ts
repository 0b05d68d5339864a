// The steps that turn the cloned child into the configured process: limits, identity, privileges, exec. Shared by
// create and exec. The order is runc's finalizeNamespace: cwd while still privileged, the bounding set, the user
// switch with keepcaps, then the final capability sets.
import { capabilityMask } from '../../oci/capabilities.js';
import type { Hook, LinuxPersonality, LinuxSeccomp, Process } from '../../oci/runtime-spec.js';
import { seccompSteps } from '../../seccomp/steps.js';
import { step, type Step } from '../../native/step.js';
import { DEFAULT_PATH, IOPRIO_CLASS, IOPRIO_CLASS_SHIFT, PERSONALITY, RLIM_INFINITY, RLIMIT_NUMBER, SCHED_FLAG, SCHED_POLICY } from './constants.js';

/** umask(2) runc applies when process.user.umask is absent. */
export const DEFAULT_UMASK = 0o022;

/** A JSON number as an rlimit: 2^64-1 cannot be written exactly in JSON, so anything from 2^63 up is infinity. */
function rlimitValue(v: number): bigint {
  return v >= 2 ** 63 ? RLIM_INFINITY : BigInt(v);
}

/**
 * Limits, scheduling, umask and no_new_privs, while the child still has its privileges (raising a hard rlimit or
 * lowering oom_score_adj needs CAP_SYS_RESOURCE). `personality` is the container's (linux.personality), for init only.
 */
export function processSetupSteps(proc: Process, personality?: LinuxPersonality): Step[] {
  const steps: Step[] = [];
  steps.push(step('umask', [proc.user.umask ?? DEFAULT_UMASK], 'process.user.umask', 'set umask'));
  (proc.rlimits ?? []).forEach((r, i) => {
    steps.push(step('rlimit', [RLIMIT_NUMBER[r.type], rlimitValue(r.soft), rlimitValue(r.hard)], `process.rlimits[${i}]`, `set ${r.type}`));
  });
  if (proc.oomScoreAdj !== undefined) {
    steps.push(step('write', ['/proc/self/oom_score_adj', String(proc.oomScoreAdj)], 'process.oomScoreAdj', 'set oom_score_adj'));
  }
  if (personality) {
    steps.push(step('personality', [PERSONALITY[personality.domain]], 'linux.personality', `set personality ${personality.domain}`));
  }
  if (proc.ioPriority) {
    // ioprio_set(2): the class in the top bits, the level in the low ones.
    const v = (IOPRIO_CLASS[proc.ioPriority.class] << IOPRIO_CLASS_SHIFT) | proc.ioPriority.priority;
    steps.push(step('ioprio', [v], 'process.ioPriority', `set I/O priority ${proc.ioPriority.class} ${proc.ioPriority.priority}`));
  }
  if (proc.scheduler) {
    const s = proc.scheduler;
    const flags = (s.flags ?? []).reduce((m, f) => m | SCHED_FLAG[f], 0);
    steps.push(step('sched', [SCHED_POLICY[s.policy], flags, s.nice ?? 0, s.priority ?? 0, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0],
      'process.scheduler', `set scheduler ${s.policy}`));
  }
  if (proc.noNewPrivileges) steps.push(step('no-new-privs', [], 'process.noNewPrivileges', 'set no_new_privs'));
  return steps;
}

/** A hook run by the helper inside the container (startContainer); its stdin is the state document. */
export function hookStep(h: Hook, field: string): Step {
  const args = h.args ?? [h.path];
  const env = h.env ?? [];
  return step('hook', [h.path, h.timeout ?? 0, '@state', args.length, ...args, env.length, ...env], field, `hook ${h.path}`);
}

/**
 * Privilege drop and exec. Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN to load a filter, so it goes in
 * before the capabilities are dropped; with it, the filter is the very last thing before exec, so it need not allow
 * the syscalls the runtime itself still makes (runc does the same). `beforeExec` are steps between `ready` and
 * `exec` (exec-wait, startContainer hooks).
 */
export function finalProcessSteps(
  proc: Process, seccomp: LinuxSeccomp | undefined, opts: { preserveFds: number; beforeExec: Step[] },
): Step[] {
  const steps: Step[] = [];
  const filter = seccomp ? seccompSteps(seccomp) : [];
  const nnp = Boolean(proc.noNewPrivileges);
  if (!nnp) steps.push(...filter);
  steps.push(step('close-fds', [3 + opts.preserveFds], undefined, 'mark inherited fds close-on-exec'));
  // Before the user switch: the new user may not be allowed to enter the directory (runc tries here first too).
  steps.push(step('chdir', [proc.cwd], 'process.cwd', `chdir to ${proc.cwd}`));
  const caps = proc.capabilities ?? {};
  steps.push(step('capbset', [capabilityMask(caps.bounding)], 'process.capabilities.bounding', 'drop capabilities from the bounding set'));
  // prctl(2) PR_SET_KEEPCAPS: keep the permitted set across setuid, so capset can still grant what the spec asks.
  steps.push(step('keepcaps', [1], 'process.user', 'keep capabilities across the user switch'));
  const gids = (proc.user.additionalGids ?? []).join(',');
  steps.push(step('user', [proc.user.uid, proc.user.gid, gids], 'process.user', `switch to uid ${proc.user.uid} gid ${proc.user.gid}`));
  steps.push(step('keepcaps', [0], 'process.user', 'stop keeping capabilities'));
  // capabilities(7): a capability can be ambient only if it is also permitted and inheritable; runc leaves the
  // others out rather than fail, and so do we (the default spec lists ambient caps with no inheritable ones).
  const permitted = capabilityMask(caps.permitted);
  const inheritable = capabilityMask(caps.inheritable);
  const ambient = capabilityMask(caps.ambient) & permitted & inheritable;
  steps.push(step('capset', [capabilityMask(caps.effective), permitted, inheritable, ambient], 'process.capabilities', 'set capabilities'));
  const env = proc.env ?? [];
  const pathVar = env.filter((e) => e.startsWith('PATH=')).pop()?.slice(5) ?? DEFAULT_PATH;
  const args = proc.args ?? [];
  // As the container's user, so a program it may not execute is found missing here, not at exec.
  steps.push(step('resolve-exec', [args[0], pathVar], 'process.args[0]', `find "${args[0]}"`));
  steps.push(step('ready'));
  steps.push(...opts.beforeExec);
  if (nnp) steps.push(...filter);
  steps.push(step('exec', [args.length, ...args, env.length, ...env], 'process.args', `exec ${args[0]}`));
  return steps;
}
