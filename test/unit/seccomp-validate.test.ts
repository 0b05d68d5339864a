// validateSeccomp: every problem of linux.seccomp, each with its JSON path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSeccompProfile } from '../../src/seccomp/default-profile.js';
import { validateSeccomp } from '../../src/seccomp/validate.js';

const P = 'linux.seccomp';
const lines = (seccomp: unknown) => validateSeccomp(seccomp, P).map((p) => `${p.path}: ${p.message}`);

describe('seccomp validation', () => {
  test('a correct config has no problems', () => {
    assert.deepEqual(lines({
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], listenerPath: '/run/l.sock', listenerMetadata: 'm',
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 },
        { names: ['mknodat'], action: 'SCMP_ACT_NOTIFY' },
        { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 18446744073709551615, op: 'SCMP_CMP_EQ' }] },
      ],
    }), []);
  });

  test('the default profile is valid for every capability set', () => {
    assert.deepEqual(lines(defaultSeccompProfile([])), []);
    assert.deepEqual(lines(defaultSeccompProfile(['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_TIME'])), []);
  });

  test('not an object, and a missing default action', () => {
    assert.deepEqual(lines('x'), ['linux.seccomp: must be an object']);
    assert.deepEqual(lines({}), ['linux.seccomp.defaultAction: is required (an SCMP_ACT_* name)']);
  });

  test('unknown actions, operators, architectures and flags are named where they are', () => {
    assert.deepEqual(lines({
      defaultAction: 'SCMP_ACT_NOPE',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_FAST'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdir'], action: 'SCMP_ACT_DENY', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] },
      ],
    }), [
      'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"',
      'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"',
      'linux.seccomp.flags[1]: unknown flag "SECCOMP_FILTER_FLAG_FAST"',
      'linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_DENY"',
      'linux.seccomp.syscalls[1].args[0].op: unknown operator "SCMP_CMP_ABOUT"',
    ]);
  });

  test('argument indexes, values and errno numbers out of range', () => {
    const p = lines({
      defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 5,
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 },
        { names: ['b'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 },
        { names: ['c'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: -1, valueTwo: 1.5, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2 ** 65, op: 'SCMP_CMP_EQ' }] },
      ],
    });
    assert.deepEqual(p, [
      'linux.seccomp.defaultErrnoRet: only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE',
      'linux.seccomp.syscalls[0].errnoRet: must be an errno number (0..4095)',
      'linux.seccomp.syscalls[1].errnoRet: only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE',
      'linux.seccomp.syscalls[2].args[0].index: must be 0..5 (a syscall has at most six arguments)',
      'linux.seccomp.syscalls[2].args[0].value: must be an integer from 0 to 18446744073709551615',
      'linux.seccomp.syscalls[2].args[0].valueTwo: must be an integer from 0 to 18446744073709551615',
      'linux.seccomp.syscalls[2].args[1].value: must be an integer from 0 to 18446744073709551615',
    ]);
  });

  test('missing or malformed syscall names', () => {
    assert.deepEqual(lines({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ action: 'SCMP_ACT_KILL' }, { names: [], action: 'SCMP_ACT_KILL' }, { names: ['ok', 'Bad Name', 3], action: 'SCMP_ACT_KILL' }, 'read'],
    }), [
      'linux.seccomp.syscalls[0].names: must list at least one syscall',
      'linux.seccomp.syscalls[1].names: must list at least one syscall',
      'linux.seccomp.syscalls[2].names[1]: "Bad Name" is not a syscall name',
      'linux.seccomp.syscalls[2].names[2]: "3" is not a syscall name',
      'linux.seccomp.syscalls[3]: must be an object',
    ]);
  });

  test('SCMP_ACT_NOTIFY needs an absolute listenerPath, is no default and never covers write', () => {
    assert.deepEqual(lines({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
      ['linux.seccomp.listenerPath: is required when an action is SCMP_ACT_NOTIFY']);
    assert.deepEqual(lines({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: 'relative.sock' }), [
      'linux.seccomp.listenerPath: must be an absolute path',
      'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action',
    ]);
    assert.deepEqual(lines({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }] }),
      ['linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for write (as in runc)']);
  });

  test('WAIT_KILLABLE_RECV without a listener', () => {
    assert.deepEqual(lines({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }),
      ['linux.seccomp.flags[1]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a listenerPath']);
  });

  test('fields of the wrong type', () => {
    assert.deepEqual(lines({ defaultAction: 'SCMP_ACT_ALLOW', architectures: 'x86_64', flags: 'LOG', syscalls: {}, listenerMetadata: 3 }), [
      'linux.seccomp.architectures: must be an array',
      'linux.seccomp.flags: must be an array',
      'linux.seccomp.listenerMetadata: must be a string',
      'linux.seccomp.syscalls: must be an array',
    ]);
    assert.deepEqual(lines({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: {} }, { names: ['y'], action: 'SCMP_ACT_ALLOW', args: [1] }] }), [
      'linux.seccomp.syscalls[0].args: must be an array',
      'linux.seccomp.syscalls[1].args[0]: must be an object',
    ]);
  });
});
