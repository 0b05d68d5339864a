// linux.seccomp -> launch-plan steps: init with the default action, the architectures, one rule per syscall name,
// load. The filter is built in the helper's memory by the first steps and only installed by `seccomp-load`, so a
// plan may build it early (while the runtime still listens for warnings) and load it last.
import type { LinuxSeccomp, LinuxSeccompArg } from '../oci/runtime-spec.js';
import { step, type Step } from '../native/step.js';
import { SECCOMP_ARCHES, SECCOMP_OPERATORS, actionValue } from './actions.js';

/**
 * A JSON number as a 64-bit argument. 18446744073709551615 (2^64-1) cannot be written exactly in JSON: it parses
 * as 2^64, which validation lets through and which means the top value.
 */
function argValue(v: number): bigint {
  return v >= 2 ** 64 ? (1n << 64n) - 1n : BigInt(v);
}

function conditionArgs(args: LinuxSeccompArg[]): (number | bigint)[] {
  return args.flatMap((a) => [a.index, SECCOMP_OPERATORS[a.op], argValue(a.value), argValue(a.valueTwo ?? 0)]);
}

/**
 * seccomp_rule_add(3): "you can only compare each argument once in a single rule", so a rule with two conditions
 * on one argument becomes one rule per condition, each matching on its own, as runc does.
 */
function conditionGroups(args: LinuxSeccompArg[] | undefined): LinuxSeccompArg[][] {
  if (!args?.length) return [[]];
  const indexes = args.map((a) => a.index);
  return new Set(indexes).size === indexes.length ? [args] : args.map((a) => [a]);
}

/** seccomp-init, seccomp-arch per architecture and seccomp-rule per (name, condition group): the filter, not loaded. */
export function seccompFilterSteps(seccomp: LinuxSeccomp, fieldPrefix = 'linux.seccomp'): Step[] {
  const defaultAction = actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet);
  const steps: Step[] = [
    step('seccomp-init', [defaultAction], `${fieldPrefix}.defaultAction`, 'start the seccomp filter'),
  ];
  (seccomp.architectures ?? []).forEach((a, i) => {
    steps.push(step('seccomp-arch', [SECCOMP_ARCHES[a]], `${fieldPrefix}.architectures[${i}]`, `add seccomp architecture ${a}`));
  });
  (seccomp.syscalls ?? []).forEach((s, i) => {
    const action = actionValue(s.action, s.errnoRet);
    // A rule that does what the default does changes nothing, and libseccomp refuses it (EACCES); runc skips it too.
    if (action === defaultAction) return;
    for (const name of s.names) {
      for (const group of conditionGroups(s.args)) {
        steps.push(step('seccomp-rule', [name, action, group.length, ...conditionArgs(group)], `${fieldPrefix}.syscalls[${i}]`, `seccomp rule for ${name}`));
      }
    }
  });
  return steps;
}

/**
 * seccomp-load. With a listenerPath, the notify fd goes to the listener (connected earlier by `seccomp-connect`)
 * with `listenerPayload`; the default `@process-state` is the ContainerProcessState the runtime sends once the
 * container's pid is known (docs/launch-plan.md).
 */
export function seccompLoadStep(seccomp: LinuxSeccomp, fieldPrefix = 'linux.seccomp', listenerPayload = '@process-state'): Step {
  const listener = seccomp.listenerPath ?? '';
  return step('seccomp-load', [(seccomp.flags ?? []).join(','), listener, listener ? listenerPayload : ''], fieldPrefix, 'load the seccomp filter');
}

/** The whole filter: built, then loaded at once. */
export function seccompSteps(seccomp: LinuxSeccomp, fieldPrefix = 'linux.seccomp', listenerPayload = '@process-state'): Step[] {
  return [...seccompFilterSteps(seccomp, fieldPrefix), seccompLoadStep(seccomp, fieldPrefix, listenerPayload)];
}
