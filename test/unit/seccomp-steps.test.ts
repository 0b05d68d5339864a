// seccompSteps: linux.seccomp -> the launch-plan steps the native helper runs (docs/launch-plan.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LinuxSeccomp } from '../../src/oci/runtime-spec.js';
import { seccompFilterSteps, seccompLoadStep, seccompSteps } from '../../src/seccomp/steps.js';

const ALLOW = 0x7fff0000;
const ERRNO = 0x00050000;
const row = (s: { op: string; args: unknown[] }) => [s.op, ...s.args];

describe('seccomp steps', () => {
  test('init with the folded default action, the architectures, one rule per name, then load', () => {
    const steps = seccompSteps({
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 }],
    });
    assert.deepEqual(steps.map(row), [
      ['seccomp-init', ERRNO | 38],
      ['seccomp-arch', 'x86_64'],
      ['seccomp-arch', 'x86'],
      ['seccomp-rule', 'read', ALLOW, 0],
      ['seccomp-rule', 'write', ALLOW, 0],
      ['seccomp-rule', 'mkdir', ERRNO | 2, 0],
      ['seccomp-load', 'SECCOMP_FILTER_FLAG_LOG,SECCOMP_FILTER_FLAG_SPEC_ALLOW', '', ''],
    ]);
  });

  test('each step names the field it comes from', () => {
    const steps = seccompSteps({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['a'], action: 'SCMP_ACT_KILL' }, { names: ['b', 'c'], action: 'SCMP_ACT_TRAP' }] }, 'linux.seccomp');
    assert.deepEqual(steps.map((s) => s.field), [
      'linux.seccomp.defaultAction', 'linux.seccomp.architectures[0]', 'linux.seccomp.syscalls[0]',
      'linux.seccomp.syscalls[1]', 'linux.seccomp.syscalls[1]', 'linux.seccomp',
    ]);
    assert.equal(steps[2].what, 'seccomp rule for a');
    assert.equal(seccompSteps({ defaultAction: 'SCMP_ACT_ALLOW' }, 'x.seccomp')[0].field, 'x.seccomp.defaultAction');
  });

  test('conditions go as index, SCMP_CMP_* number, value, valueTwo', () => {
    const steps = seccompFilterSteps({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [
        { index: 0, value: 40, op: 'SCMP_CMP_NE' }, { index: 1, value: 0xf, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' },
      ] }],
    });
    assert.deepEqual(row(steps[1]), ['seccomp-rule', 'socket', ALLOW, 2, 0, 1, 40n, 0n, 1, 7, 15n, 1n]);
  });

  test('two conditions on one argument become one rule each (libseccomp compares an argument once per rule)', () => {
    const steps = seccompFilterSteps({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality', 'ptrace'], action: 'SCMP_ACT_ERRNO', args: [
        { index: 0, value: 8, op: 'SCMP_CMP_EQ' }, { index: 0, value: 0x20000, op: 'SCMP_CMP_EQ' }, { index: 1, value: 3, op: 'SCMP_CMP_GT' },
      ] }],
    });
    assert.deepEqual(steps.slice(1).map(row), [
      ['seccomp-rule', 'personality', ERRNO | 1, 1, 0, 4, 8n, 0n],
      ['seccomp-rule', 'personality', ERRNO | 1, 1, 0, 4, 0x20000n, 0n],
      ['seccomp-rule', 'personality', ERRNO | 1, 1, 1, 6, 3n, 0n],
      ['seccomp-rule', 'ptrace', ERRNO | 1, 1, 0, 4, 8n, 0n],
      ['seccomp-rule', 'ptrace', ERRNO | 1, 1, 0, 4, 0x20000n, 0n],
      ['seccomp-rule', 'ptrace', ERRNO | 1, 1, 1, 6, 3n, 0n],
    ]);
  });

  test('64-bit values stay exact, and 18446744073709551615 (which JSON rounds to 2^64) is the top value', () => {
    const spec = JSON.parse('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_KILL","args":[{"index":2,"value":18446744073709551615,"valueTwo":4294967296,"op":"SCMP_CMP_EQ"}]}]}') as LinuxSeccomp;
    assert.deepEqual(seccompFilterSteps(spec)[1].args.slice(-2), [18446744073709551615n, 4294967296n]);
  });

  test('a rule doing what the default does is left out (libseccomp refuses it; runc skips it)', () => {
    const steps = seccompFilterSteps({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ERRNO' },
        { names: ['b'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        { names: ['c'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      ],
    });
    assert.deepEqual(steps.map(row), [['seccomp-init', ERRNO | 1], ['seccomp-rule', 'c', ERRNO | 38, 0]]);
  });

  test('a listener gets the ContainerProcessState the runtime sends, unless a payload is given', () => {
    const seccomp: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }] };
    assert.deepEqual(row(seccompLoadStep(seccomp)), ['seccomp-load', '', '/run/agent.sock', '@process-state']);
    assert.deepEqual(row(seccompLoadStep(seccomp, 'linux.seccomp', '{"pid":1}')), ['seccomp-load', '', '/run/agent.sock', '{"pid":1}']);
    assert.deepEqual(row(seccompLoadStep({ defaultAction: 'SCMP_ACT_ALLOW' }, 'linux.seccomp', 'ignored')), ['seccomp-load', '', '', '']);
    assert.deepEqual(seccompSteps(seccomp).map((s) => s.op), ['seccomp-init', 'seccomp-rule', 'seccomp-load']);
  });
});
