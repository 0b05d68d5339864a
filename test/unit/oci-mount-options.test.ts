// The mount option table (runc's) and capability names.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CAPABILITIES, capabilityBit, capabilityMask } from '../../src/oci/capabilities.js';
import { MS } from '../../src/common/linux-flags.js';
import { parseMountOptions, propagationFlag } from '../../src/oci/mount-options.js';

describe('mount options', () => {
  test('flags set and cleared in order, the rest is data', () => {
    const p = parseMountOptions(['ro', 'nosuid', 'rw', 'noexec', 'exec', 'mode=755', 'acl', 'iversion', 'size=1m', 'defaults']);
    assert.equal(p.flags, MS.NOSUID | MS.POSIXACL | MS.I_VERSION);
    assert.deepEqual(p.data, ['mode=755', 'size=1m']);
    assert.deepEqual(p.propagation, []);
    assert.deepEqual(p.unsupported, []);
  });

  test('each option maps to its MS_* flag', () => {
    const expect: Record<string, number> = {
      ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS, remount: MS.REMOUNT,
      mand: MS.MANDLOCK, dirsync: MS.DIRSYNC, nosymfollow: MS.NOSYMFOLLOW, noatime: MS.NOATIME, nodiratime: MS.NODIRATIME,
      bind: MS.BIND, rbind: MS.BIND | MS.REC, silent: MS.SILENT, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
      lazytime: MS.LAZYTIME,
    };
    for (const [o, f] of Object.entries(expect)) assert.equal(parseMountOptions([o]).flags, f, o);
    for (const o of ['rw', 'suid', 'dev', 'exec', 'async', 'atime', 'diratime', 'loud', 'nomand', 'norelatime', 'nostrictatime', 'nolazytime', 'symfollow']) {
      assert.equal(parseMountOptions([o]).flags, 0, o);
    }
    assert.equal(MS.RDONLY, 1);
    assert.equal(MS.BIND, 4096);
    assert.equal(MS.REC, 16384);
  });

  test('propagation options are kept apart, in order', () => {
    assert.deepEqual(parseMountOptions(['rprivate', 'shared', 'slave', 'runbindable']).propagation,
      [MS.PRIVATE | MS.REC, MS.SHARED, MS.SLAVE, MS.UNBINDABLE | MS.REC]);
    assert.equal(propagationFlag('rslave'), MS.SLAVE | MS.REC);
    assert.equal(propagationFlag('nope'), undefined);
  });

  test('what skiff cannot do is named, not ignored', () => {
    const p = parseMountOptions(['tmpcopyup', 'idmap', 'ridmap', 'rro', 'rnosuid']);
    assert.deepEqual(p.unsupported.map((u) => u.option), ['tmpcopyup', 'idmap', 'ridmap', 'rro', 'rnosuid']);
    assert.ok(p.unsupported.every((u) => u.why.includes(u.option)));
    assert.deepEqual(p.data, []);
  });
});

describe('capabilities', () => {
  test('names and bits as in <linux/capability.h>', () => {
    assert.equal(CAPABILITIES.length, 41);
    assert.equal(capabilityBit('CAP_CHOWN'), 0);
    assert.equal(capabilityBit('CAP_NET_ADMIN'), 12);
    assert.equal(capabilityBit('CAP_SYS_ADMIN'), 21);
    assert.equal(capabilityBit('CAP_SYS_RESOURCE'), 24);
    assert.equal(capabilityBit('CAP_AUDIT_READ'), 37);
    assert.equal(capabilityBit('CAP_CHECKPOINT_RESTORE'), 40);
    assert.equal(capabilityBit('CAP_NOPE'), undefined);
  });

  test('a mask of names', () => {
    assert.equal(capabilityMask(['CAP_KILL', 'CAP_CHECKPOINT_RESTORE']), (1n << 5n) | (1n << 40n));
    assert.equal(capabilityMask(undefined), 0n);
  });
});
