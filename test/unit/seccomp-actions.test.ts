// OCI seccomp names -> the numbers libseccomp takes (seccomp.h of libseccomp 2.5).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPERATORS, actionValue } from '../../src/seccomp/actions.js';

describe('seccomp actions', () => {
  test('every OCI action has its libseccomp value', () => {
    assert.deepEqual(
      Object.fromEntries(SECCOMP_ACTIONS.filter((a) => a !== 'SCMP_ACT_ERRNO' && a !== 'SCMP_ACT_TRACE').map((a) => [a, actionValue(a)])),
      {
        SCMP_ACT_KILL: 0, SCMP_ACT_KILL_THREAD: 0, SCMP_ACT_KILL_PROCESS: 0x80000000, SCMP_ACT_TRAP: 0x00030000,
        SCMP_ACT_LOG: 0x7ffc0000, SCMP_ACT_ALLOW: 0x7fff0000, SCMP_ACT_NOTIFY: 0x7fc00000,
      },
    );
  });

  test('errno folds into SCMP_ACT_ERRNO and SCMP_ACT_TRACE, EPERM when absent (as runc)', () => {
    assert.equal(actionValue('SCMP_ACT_ERRNO'), 0x00050001);
    assert.equal(actionValue('SCMP_ACT_ERRNO', 38), 0x00050026);
    assert.equal(actionValue('SCMP_ACT_ERRNO', 0), 0x00050000);
    assert.equal(actionValue('SCMP_ACT_TRACE', 7), 0x7ff00007);
    assert.equal(actionValue('SCMP_ACT_TRACE'), 0x7ff00001);
    assert.equal(actionValue('SCMP_ACT_ALLOW', 38), 0x7fff0000, 'errnoRet means nothing to other actions');
  });

  test('comparison operators are libseccomp enum scmp_compare values', () => {
    assert.deepEqual(SECCOMP_OPERATORS, {
      SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
    });
  });

  test('architectures map to the names seccomp_arch_resolve_name takes', () => {
    assert.equal(SECCOMP_ARCHES.SCMP_ARCH_X86_64, 'x86_64');
    assert.equal(SECCOMP_ARCHES.SCMP_ARCH_X86, 'x86');
    assert.equal(SECCOMP_ARCHES.SCMP_ARCH_X32, 'x32');
    assert.equal(SECCOMP_ARCHES.SCMP_ARCH_AARCH64, 'aarch64');
    assert.equal(SECCOMP_ARCHES.SCMP_ARCH_PPC64LE, 'ppc64le');
    for (const [oci, name] of Object.entries(SECCOMP_ARCHES)) assert.equal(name, oci.slice('SCMP_ARCH_'.length).toLowerCase());
  });

  test('the four filter flags of the runtime spec are supported', () => {
    assert.deepEqual([...SECCOMP_FLAGS].sort(), [
      'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
    ]);
  });
});
