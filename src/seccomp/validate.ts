// Checks linux.seccomp and reports every problem with its JSON path.
import type { Problem } from '../common/errors.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPERATORS } from './actions.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
// 2^64 itself is let through: it is what the JSON literal 18446744073709551615 (2^64-1) parses to.
const isU64 = (v: unknown) => isUint(v) && (v as number) <= 2 ** 64;

export function validateSeccomp(seccomp: unknown, path: string): Problem[] {
  const problems: Problem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  if (!isObj(seccomp)) return [{ path, message: 'must be an object' }];
  const action = (v: unknown, p: string) => {
    if (typeof v !== 'string') add(p, 'is required (an SCMP_ACT_* name)');
    else if (!SECCOMP_ACTIONS.includes(v)) add(p, `unknown action "${v}"`);
  };
  action(seccomp.defaultAction, `${path}.defaultAction`);
  if (seccomp.defaultErrnoRet !== undefined && (!isUint(seccomp.defaultErrnoRet) || (seccomp.defaultErrnoRet as number) > 4095)) {
    add(`${path}.defaultErrnoRet`, 'must be an errno number (0..4095)');
  }
  if (seccomp.defaultErrnoRet !== undefined && seccomp.defaultAction !== 'SCMP_ACT_ERRNO' && seccomp.defaultAction !== 'SCMP_ACT_TRACE') {
    add(`${path}.defaultErrnoRet`, 'only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE');
  }
  if (seccomp.architectures !== undefined) {
    if (!Array.isArray(seccomp.architectures)) add(`${path}.architectures`, 'must be an array');
    else seccomp.architectures.forEach((a, i) => {
      if (typeof a !== 'string' || !(a in SECCOMP_ARCHES)) add(`${path}.architectures[${i}]`, `unknown architecture "${String(a)}"`);
    });
  }
  if (seccomp.flags !== undefined) {
    if (!Array.isArray(seccomp.flags)) add(`${path}.flags`, 'must be an array');
    else seccomp.flags.forEach((f, i) => {
      if (typeof f !== 'string' || !SECCOMP_FLAGS.includes(f)) add(`${path}.flags[${i}]`, `unknown flag "${String(f)}"`);
    });
  }
  if (seccomp.listenerPath !== undefined && (typeof seccomp.listenerPath !== 'string' || !seccomp.listenerPath.startsWith('/'))) {
    add(`${path}.listenerPath`, 'must be an absolute path');
  }
  if (seccomp.listenerMetadata !== undefined && typeof seccomp.listenerMetadata !== 'string') add(`${path}.listenerMetadata`, 'must be a string');
  let notify = seccomp.defaultAction === 'SCMP_ACT_NOTIFY';
  if (notify) add(`${path}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  if (seccomp.syscalls !== undefined) {
    if (!Array.isArray(seccomp.syscalls)) add(`${path}.syscalls`, 'must be an array');
    else seccomp.syscalls.forEach((s, i) => {
      const p = `${path}.syscalls[${i}]`;
      if (!isObj(s)) return add(p, 'must be an object');
      if (!Array.isArray(s.names) || s.names.length === 0) add(`${p}.names`, 'must list at least one syscall');
      else s.names.forEach((n, j) => { if (typeof n !== 'string' || !/^[a-z0-9_]+$/.test(n)) add(`${p}.names[${j}]`, `"${String(n)}" is not a syscall name`); });
      action(s.action, `${p}.action`);
      if (s.action === 'SCMP_ACT_NOTIFY') {
        notify = true;
        // The helper still writes after loading the filter (exec-wait), so it would wait on the listener itself.
        if (Array.isArray(s.names) && s.names.includes('write')) add(`${p}.names`, 'SCMP_ACT_NOTIFY cannot be used for write (as in runc)');
      }
      if (s.errnoRet !== undefined) {
        if (!isUint(s.errnoRet) || (s.errnoRet as number) > 4095) add(`${p}.errnoRet`, 'must be an errno number (0..4095)');
        if (s.action !== 'SCMP_ACT_ERRNO' && s.action !== 'SCMP_ACT_TRACE') add(`${p}.errnoRet`, 'only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE');
      }
      if (s.args !== undefined) {
        if (!Array.isArray(s.args)) add(`${p}.args`, 'must be an array');
        else s.args.forEach((a, j) => {
          const ap = `${p}.args[${j}]`;
          if (!isObj(a)) return add(ap, 'must be an object');
          if (!isUint(a.index) || (a.index as number) > 5) add(`${ap}.index`, 'must be 0..5 (a syscall has at most six arguments)');
          if (!isU64(a.value)) add(`${ap}.value`, 'must be an integer from 0 to 18446744073709551615');
          if (a.valueTwo !== undefined && !isU64(a.valueTwo)) add(`${ap}.valueTwo`, 'must be an integer from 0 to 18446744073709551615');
          if (typeof a.op !== 'string' || !(a.op in SECCOMP_OPERATORS)) add(`${ap}.op`, `unknown operator "${String(a.op)}"`);
        });
      }
    });
  }
  if (notify && !seccomp.listenerPath) add(`${path}.listenerPath`, 'is required when an action is SCMP_ACT_NOTIFY');
  // seccomp(2): WAIT_KILLABLE_RECV is about waiting for a listener, and the kernel refuses it without one (EINVAL).
  const killable = Array.isArray(seccomp.flags) ? seccomp.flags.indexOf('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV') : -1;
  if (killable >= 0 && !seccomp.listenerPath) add(`${path}.flags[${killable}]`, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a listenerPath');
  return problems;
}
