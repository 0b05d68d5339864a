// exec: a new process in a running container's namespaces (runc exec). Pure: no I/O.
import type { Process, Spec } from '../../oci/runtime-spec.js';
import type { HostFacts } from '../host-facts.js';
import { NAMESPACE } from './constants.js';
import { listenerConnectSteps } from './create-plan.js';
import { privilegeAndExecSteps, privilegedSetupSteps } from './process-steps.js';
import { step, type Step } from './step.js';

export interface ExecPlanOptions {
  initPid: number;
  process: Process;
  spec: Spec;
  consoleSocket?: string;
  parentMode: 'exit' | 'wait';
  preserveFds?: number;
}

export function buildExecPlan(_host: HostFacts, opts: ExecPlanOptions): Step[] {
  const { process: proc, spec } = opts;
  const steps: Step[] = [];
  const terminal = Boolean(proc.terminal);
  // The console socket is a host path: connect before entering the container's mount namespace.
  if (terminal && opts.consoleSocket) {
    steps.push(step('console-connect', [opts.consoleSocket], 'process.terminal', `connect to console socket ${opts.consoleSocket}`));
  }
  steps.push(...listenerConnectSteps(spec));
  const types = (spec.linux?.namespaces ?? []).map((n) => n.type);
  // setns(2): the user namespace first. The mount namespace last: joining it changes our root to the container's,
  // where /proc is the container's own and /proc/<host pid>/ns/* no longer resolves.
  const order = ['user', ...types.filter((t) => t !== 'user' && t !== 'mount'), 'mount'].filter((t) => types.includes(t as never));
  for (const t of order) {
    const ns = NAMESPACE[t];
    steps.push(step('setns', [`/proc/${opts.initPid}/ns/${ns.proc}`, ns.flag], 'linux.namespaces', `join the container's ${t} namespace`));
  }
  steps.push(step('clone', [0, opts.parentMode], undefined, 'create the process'));
  if (terminal && !opts.consoleSocket) steps.push(step('console-connect', [''], 'process.terminal', 'use the caller\'s terminal'));
  if (!terminal) steps.push(step('setsid', [], undefined, 'start a session'));
  if (terminal) {
    const size = proc.consoleSize;
    steps.push(step('console', [size?.height ?? 0, size?.width ?? 0], 'process.terminal', 'set up the terminal'));
  }
  steps.push(...privilegedSetupSteps(proc, spec, false));
  steps.push(...privilegeAndExecSteps(proc, spec, { preserveFds: opts.preserveFds ?? 0, beforeExec: [] }));
  return steps;
}
