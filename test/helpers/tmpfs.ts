// A small tmpfs for a test, on a new directory, with the propagation the test needs (mount_namespaces(7)). The test
// unmounts it (umount --recursive, for what it mounted inside) before removing its scratch directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export function mountTmpfs(dir: string, propagation: 'private' | 'shared', size = '1m'): void {
  mkdirSync(dir);
  for (const args of [['-t', 'tmpfs', '-o', `size=${size}`, 'skiff-test', dir], [`--make-${propagation}`, dir]]) {
    assert.equal(spawnSync('mount', args).status, 0, `mount ${args.join(' ')}`);
  }
}
