// linux.seccomp -> launch-plan steps: init with the default action, the architectures, one rule per syscall name,
// load. libseccomp cannot AND two conditions on the same argument, so such a rule becomes one rule per condition
// (runc does the same).
import type { LinuxSeccomp, LinuxSeccompArg } from '../oci/runtime-spec.js';
import { step, type Step } from '../runtime/plan/step.js';
import { SECCOMP_ARCHES, SECCOMP_OPERATORS, actionValue } from './actions.js';

function conditionArgs(args: LinuxSeccompArg[]): (number | bigint)[] {
  return args.flatMap((a) => [a.index, SECCOMP_OPERATORS[a.op], BigInt(a.value), BigInt(a.valueTwo ?? 0)]);
}

function conditionGroups(args: LinuxSeccompArg[] | undefined): LinuxSeccompArg[][] {
  if (!args?.length) return [[]];
  const indexes = args.map((a) => a.index);
  return new Set(indexes).size === indexes.length ? [args] : args.map((a) => [a]);
}

/** With a listenerPath, the runtime sends the ContainerProcessState once the pid is known (`@process-state`). */
export function seccompSteps(seccomp: LinuxSeccomp, field = 'linux.seccomp'): Step[] {
  const steps: Step[] = [
    step('seccomp-init', [actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet)], `${field}.defaultAction`, 'start the seccomp filter'),
  ];
  (seccomp.architectures ?? []).forEach((a, i) => {
    steps.push(step('seccomp-arch', [SECCOMP_ARCHES[a]], `${field}.architectures[${i}]`, `add seccomp architecture ${a}`));
  });
  (seccomp.syscalls ?? []).forEach((s, i) => {
    const action = actionValue(s.action, s.errnoRet);
    for (const name of s.names) {
      for (const group of conditionGroups(s.args)) {
        steps.push(step('seccomp-rule', [name, action, group.length, ...conditionArgs(group)], `${field}.syscalls[${i}]`, `seccomp rule for ${name}`));
      }
    }
  });
  steps.push(step('seccomp-load', [(seccomp.flags ?? []).join(','), seccomp.listenerPath ?? '', seccomp.listenerPath ? '@process-state' : ''], field, 'load the seccomp filter'));
  return steps;
}
