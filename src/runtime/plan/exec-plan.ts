// exec: a new process in a running container's namespaces (runc exec, libcontainer/setns_init_linux.go). Pure: no
// I/O. The process moves itself into the container's cgroup (cgroupSelfJoin), or the caller moves it when the helper
// reports its pid.
import type { Process, Spec } from '../../oci/runtime-spec.js';
import type { HostFacts } from '../host-facts.js';
import { NAMESPACE } from './constants.js';
import { cgroupJoinSteps, cgroupOpenSteps, listenerConnectSteps } from './create-plan.js';
import { finalProcessSteps, processSetupSteps } from './process-steps.js';
import { step, type Step } from '../../native/step.js';

export interface ExecPlanOptions {
  initPid: number;
  process: Process;
  /** The container's config.json (its namespaces, seccomp filter). */
  spec: Spec;
  /** With process.terminal: the socket that receives the pty master; absent = the `wait` parent proxies it. */
  consoleSocket?: string;
  parentMode: 'exit' | 'wait';
  preserveFds?: number;
  /** With it (and without noNewKeyring) the process joins the session keyring `_ses.<containerId>`, as runc exec does. */
  containerId?: string;
  noNewKeyring?: boolean;
  /** As CreatePlanOptions.cgroupSelfJoin. */
  cgroupSelfJoin?: string[];
}

export function buildExecPlan(_host: HostFacts, opts: ExecPlanOptions): Step[] {
  const { process: proc, spec } = opts;
  const steps: Step[] = [...cgroupOpenSteps(opts.cgroupSelfJoin)];
  const terminal = Boolean(proc.terminal);
  if (terminal && !opts.consoleSocket && opts.parentMode !== 'wait') {
    throw new Error('process.terminal without a console socket needs a parent that waits and proxies the terminal');
  }
  // Host paths: connect before entering the container's mount namespace.
  if (terminal && opts.consoleSocket) {
    steps.push(step('console-connect', [opts.consoleSocket], 'process.terminal', `connect to console socket ${opts.consoleSocket}`));
  }
  steps.push(...listenerConnectSteps(spec));
  const types = (spec.linux?.namespaces ?? []).map((n) => n.type);
  // setns(2): the user namespace first, so the others are joined with its privileges. The time namespace only
  // applies to children, which the clone below makes. The mount namespace last: joining it changes our root to the
  // container's, where /proc is the container's own and /proc/<host pid>/ns/* no longer resolves.
  const order = ['user', ...types.filter((t) => t !== 'user' && t !== 'mount'), 'mount'].filter((t) => types.includes(t as never));
  for (const t of order) {
    const ns = NAMESPACE[t];
    steps.push(step('setns', [`/proc/${opts.initPid}/ns/${ns.proc}`, ns.flag], `linux.namespaces[${types.indexOf(t as never)}]`,
      `join the container's ${t} namespace`));
  }
  steps.push(step('clone', [0, opts.parentMode], undefined, 'create the process'));
  steps.push(...cgroupJoinSteps(opts.cgroupSelfJoin));
  if (terminal && !opts.consoleSocket) steps.push(step('console-connect', [''], 'process.terminal', 'use the caller\'s terminal'));
  if (terminal) {
    const size = proc.consoleSize;
    steps.push(step('console', [size?.height ?? 0, size?.width ?? 0], 'process.terminal', 'set up the terminal'));
  } else {
    steps.push(step('setsid', [], undefined, 'start a session'));
  }
  if (opts.containerId && !opts.noNewKeyring) {
    steps.push(step('keyring', [`_ses.${opts.containerId}`], undefined, 'join the container\'s session keyring'));
  }
  steps.push(...processSetupSteps(proc));
  // A container without a mount namespace of its own was chrooted (create's plan); so is this process, into the
  // init's root. Late, for the same reasons as at create: the steps above use the runtime's /proc and /dev.
  if (!types.includes('mount')) {
    steps.push(step('chroot', [`/proc/${opts.initPid}/root`], 'root.path', 'chroot to the container\'s root'));
  }
  steps.push(...finalProcessSteps(proc, spec.linux?.seccomp, { preserveFds: opts.preserveFds ?? 0, beforeExec: [] }));
  return steps;
}
