// The default profile: its shape, what capabilities add, and its argument filters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LinuxSeccomp } from '../../src/oci/runtime-spec.js';
import { defaultSeccompProfile } from '../../src/seccomp/default-profile.js';

const allowed = (p: LinuxSeccomp) => new Set(p.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
const rulesFor = (p: LinuxSeccomp, name: string) => p.syscalls!.filter((s) => s.names.includes(name));

describe('default seccomp profile', () => {
  test('an allow-list: everything else fails with EPERM', () => {
    const p = defaultSeccompProfile([], 'x64');
    assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(p.defaultErrnoRet, 1);
    assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const a = allowed(p);
    for (const name of ['read', 'write', 'openat', 'execve', 'exit_group', 'futex', 'mmap', 'rt_sigreturn', 'wait4', 'arch_prctl', 'socketcall']) {
      assert.ok(a.has(name), `${name} allowed`);
    }
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'reboot', 'init_module', 'kexec_load', 'bpf', 'ptrace', 'chroot', 'keyctl', 'add_key', 'userfaultfd']) {
      assert.ok(!rulesFor(p, name).length, `${name} not allowed`);
    }
  });

  test('no name twice in the unconditional allow-list, and no empty rule', () => {
    const p = defaultSeccompProfile([], 'x64');
    for (const s of p.syscalls!) {
      assert.ok(s.names.length > 0);
      assert.equal(new Set(s.names).size, s.names.length);
    }
    assert.equal(p.syscalls![0].names.length, allowed(defaultSeccompProfile([], 'riscv64')).size - 1, 'riscv adds only riscv_flush_icache');
  });

  test('capabilities add the syscalls they exist to permit', () => {
    const none = allowed(defaultSeccompProfile([], 'x64'));
    const all = allowed(defaultSeccompProfile(['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_TIME', 'CAP_SYS_BOOT', 'CAP_SYS_CHROOT', 'CAP_DAC_READ_SEARCH'], 'x64'));
    const added = [...all].filter((n) => !none.has(n)).sort();
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'clone', 'clone3', 'bpf', 'ptrace', 'process_vm_readv',
      'settimeofday', 'clock_settime', 'reboot', 'chroot', 'open_by_handle_at']) {
      assert.ok(added.includes(n), `${n} added`);
    }
    assert.ok(allowed(defaultSeccompProfile(['CAP_SYSLOG'], 'x64')).has('syslog'));
    assert.ok(!allowed(defaultSeccompProfile(['CAP_NET_ADMIN'], 'x64')).has('mount'));
  });

  test('without CAP_SYS_ADMIN: clone only without namespace flags, clone3 says ENOSYS so libc falls back to clone', () => {
    const p = defaultSeccompProfile(['CAP_CHOWN', 'CAP_KILL'], 'x64');
    assert.deepEqual(rulesFor(p, 'clone'), [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }]);
    assert.deepEqual(rulesFor(p, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
    assert.equal(rulesFor(defaultSeccompProfile([], 's390x'), 'clone')[0].args![0].index, 1, 's390 passes the flags second');
  });

  test('with CAP_SYS_ADMIN: clone and clone3 unfiltered', () => {
    const p = defaultSeccompProfile(['CAP_SYS_ADMIN'], 'x64');
    assert.ok(rulesFor(p, 'clone').every((s) => !s.args && s.action === 'SCMP_ACT_ALLOW'));
    assert.ok(rulesFor(p, 'clone3').every((s) => s.action === 'SCMP_ACT_ALLOW'));
  });

  test('personality: only the harmless domains, one rule each; socket: anything but AF_VSOCK', () => {
    const p = defaultSeccompProfile([], 'x64');
    assert.deepEqual(rulesFor(p, 'personality').map((s) => s.args), [0, 8, 0x20000, 0x20008, 0xffffffff].map((value) => [{ index: 0, value, op: 'SCMP_CMP_EQ' }]));
    assert.deepEqual(rulesFor(p, 'socket').map((s) => s.args), [[{ index: 0, value: 40, op: 'SCMP_CMP_NE' }]]);
  });

  test('architectures follow the host; arch-specific syscalls only there', () => {
    assert.deepEqual(defaultSeccompProfile([], 'arm64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.ok(allowed(defaultSeccompProfile([], 'arm64')).has('set_tls'));
    assert.ok(!allowed(defaultSeccompProfile([], 'arm64')).has('arch_prctl'));
    assert.ok(!allowed(defaultSeccompProfile([], 'x64')).has('set_tls'));
    assert.equal(defaultSeccompProfile([], 'sparc').architectures, undefined, 'an unknown host leaves the native arch');
    assert.deepEqual(defaultSeccompProfile([]).architectures, defaultSeccompProfile([], process.arch).architectures);
  });

  test('each call returns a fresh profile a caller may change', () => {
    const a = defaultSeccompProfile([], 'x64');
    a.architectures!.push('SCMP_ARCH_ARM');
    a.syscalls![0].names.push('kexec_load');
    assert.deepEqual(defaultSeccompProfile([], 'x64').architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.ok(!allowed(defaultSeccompProfile([], 'x64')).has('kexec_load'));
  });
});
