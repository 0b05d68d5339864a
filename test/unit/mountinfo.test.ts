// The mountinfo parser and the stat test for a mount of another filesystem on a path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foreignMountAt, mountsAt, parseMountinfo } from '../../src/common/mountinfo.js';

const LINE = '36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue';

test('a mountinfo line: octal escapes undone, optional fields kept, flags as bits', () => {
  const [e] = parseMountinfo(LINE + '\n');
  assert.equal(e.mountPoint, '/mnt/with space');
  assert.equal(e.root, '/mnt1');
  assert.deepEqual(e.optional, ['master:1']);
  assert.equal(e.fstype, 'ext3');
  assert.deepEqual(mountsAt('/mnt/with space', [e]), [e]);
});

test('foreignMountAt: /proc is its own filesystem, a missing path is not mounted', () => {
  assert.equal(foreignMountAt('/proc'), true);
  assert.equal(foreignMountAt('/proc/self'), false);
  assert.equal(foreignMountAt('/no/such/path'), false);
});
