// Which cgroup v1 hierarchies a host has, from its mountinfo: the controllers' and the named ones (name=systemd),
// where other runtimes' binaries make cgroups too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namedHierarchies, v1Hierarchies } from '../../src/cgroups/layout.js';

const MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
  '33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd',
  '34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
  '',
].join('\n');

test('the named hierarchies are those with a name= option', () => {
  assert.deepEqual(namedHierarchies(MOUNTINFO), ['/sys/fs/cgroup/systemd']);
  assert.deepEqual(v1Hierarchies(MOUNTINFO).get('memory'), '/sys/fs/cgroup/memory');
});
