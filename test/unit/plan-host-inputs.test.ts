// The small I/O the plan builder is fed: bind source kinds, the flags of bind sources' mounts, and the host facts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/common/errors.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { detectHostFacts, hasCapability, parseKernelVersion } from '../../src/runtime/host-facts.js';
import { MS } from '../../src/common/linux-flags.js';
import { bindSourceFlags, statBindSources } from '../../src/runtime/plan/index.js';
import { mountContaining, parseMountinfo } from '../../src/common/mountinfo.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-plan-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function withMounts(mounts: Spec['mounts']): Spec {
  const s = defaultSpec();
  s.mounts!.push(...mounts!);
  return s;
}

describe('statBindSources', () => {
  test('files and directories, absolute or inside the bundle; other mounts are not looked at', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'file'), '');
    const kinds = await statBindSources(withMounts([
      { destination: '/d', source: join(dir, 'data'), options: ['rbind'] },
      { destination: '/f', source: 'file', options: ['bind'] },
      { destination: '/t', type: 'bind', source: 'data' },
    ]), dir);
    assert.deepEqual(kinds, { [join(dir, 'data')]: 'dir', file: 'file', data: 'dir' });
  });

  test('every missing source is named by its field', async (t) => {
    const dir = tempDir(t);
    const err = await statBindSources(withMounts([
      { destination: '/a', source: join(dir, 'gone'), options: ['bind'] },
      { destination: '/b', source: 'also-gone', options: ['rbind'] },
    ]), dir).catch((e: unknown) => e);
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.problems, [
      { path: 'mounts[7].source', message: `${join(dir, 'gone')}: no such file or directory` },
      { path: 'mounts[8].source', message: `${join(dir, 'also-gone')}: no such file or directory` },
    ]);
  });

  test('a relative source without the bundle is an error, not a guess', async () => {
    await assert.rejects(statBindSources(withMounts([{ destination: '/a', source: 'rel', options: ['bind'] }])),
      /mounts\[7\]\.source: "rel" is relative to the bundle, which was not given/);
  });
});

describe('host facts', () => {
  test('kernel versions', () => {
    assert.deepEqual(parseKernelVersion('6.18.44-fc-v669'), { major: 6, minor: 18 });
    assert.deepEqual(parseKernelVersion('5.4.0'), { major: 5, minor: 4 });
    assert.deepEqual(parseKernelVersion('weird'), { major: 0, minor: 0 });
  });

  test('detected on this machine: consistent with /proc', async () => {
    const h = await detectHostFacts();
    assert.ok(['v1', 'hybrid', 'v2'].includes(h.cgroupMode));
    assert.ok(h.capLastCap >= 36 && h.capLastCap <= 63);
    assert.ok(h.kernelVersion.major >= 3);
    assert.equal(h.openat2, h.kernelVersion.major > 5 || (h.kernelVersion.major === 5 && h.kernelVersion.minor >= 6));
    assert.equal(typeof h.timeNamespace, 'boolean');
    assert.ok(h.hardRlimits.RLIMIT_NOFILE > 0);
    assert.equal(hasCapability(h, 24), (h.capEff >> 24n) % 2n === 1n, 'CAP_SYS_RESOURCE read from CapEff');
  });
});

describe('mountinfo and bind source flags', () => {
  const info = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '40 27 0:40 / /srv/locked ro,nosuid,nodev,noexec,noatime - tmpfs tmpfs rw',
    '41 27 0:41 / /srv/a\\040b rw,nosuid shared:3 - tmpfs tmpfs rw',
    '42 40 0:42 / /srv/locked rw - tmpfs tmpfs rw',
  ].join('\n');

  test('per-mount options become MS_* flags; the last mount on a point is the one seen', () => {
    const entries = parseMountinfo(info);
    assert.deepEqual(entries[1], {
      mountId: 40, parentId: 27, root: '/', mountPoint: '/srv/locked', flags: MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME,
      optional: [], fstype: 'tmpfs', source: 'tmpfs', superOptions: ['rw'],
    });
    assert.deepEqual(entries[2].optional, ['shared:3']);
    assert.equal(entries[2].mountPoint, '/srv/a b');
    assert.equal(mountContaining('/srv/locked/x', entries)!.flags, 0);
    assert.equal(mountContaining('/srv/lockedness', entries)!.mountPoint, '/');
  });

  test('bindSourceFlags: the flags of the mount under each bind source (symlinks resolved)', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'data'));
    const flags = await bindSourceFlags(withMounts([
      { destination: '/d', source: 'data', options: ['bind'] },
      { destination: '/gone', source: join(dir, 'gone'), options: ['bind'] },
    ]), dir, `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n50 27 0:50 / ${dir} rw,nodev,relatime - tmpfs tmpfs rw`);
    assert.deepEqual(flags, { data: MS.NODEV | MS.RELATIME });
  });
});
