// Pinned network namespaces: the nsfs bind mount, the shared directory that makes an unpin reach copies of the pin
// in other mount namespaces, and a clean removal. Only namespaces and mounts this test makes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isShared, mountsAt, parseMountinfo } from '../../src/common/mountinfo.js';
import { NetnsStore } from '../../src/network/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-netns-'));
const store = new NetnsStore(join(dir, 'netns'));
after(async () => {
  for (const n of await store.list()) await store.remove(n).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const nsInode = (path: string) => spawnSync('stat', ['-L', '-c', '%i', path], { encoding: 'utf8' }).stdout.trim();

test('a pinned namespace is its own network namespace, and its pin directory is a shared mount while it exists', async () => {
  const path = await store.create('p1');
  assert.equal(path, join(store.dir, 'p1'));
  assert.notEqual(nsInode(path), nsInode('/proc/self/ns/net'), 'a new network namespace');
  const links = spawnSync('nsenter', [`--net=${path}`, 'ip', '-o', 'link'], { encoding: 'utf8' });
  assert.match(links.stdout, /^1: lo: /);
  assert.equal(links.stdout.trim().split('\n').length, 1, 'only lo inside');
  assert.deepEqual(mountsAt(store.dir).map(isShared), [true]);
  await assert.rejects(store.create('p1'), /network namespace "p1" already exists/);
  await assert.rejects(store.create('../p1'), /network namespace name "\.\.\/p1": use letters/);
  await store.remove('p1');
  assert.deepEqual(mountsAt(path), []);
  assert.deepEqual(mountsAt(store.dir), [], 'the directory mount went with the last namespace');
  await assert.rejects(store.remove('p1'), /network namespace "p1" does not exist/);
});

test('unpinning also unpins the copy in a mount namespace made while the pin existed', async (t) => {
  const path = await store.create('p2');
  // Like a container's mount namespace, a slave of the host's mounts, made while p2 is pinned.
  const holder = spawn('unshare', ['--mount', '--propagation', 'slave', 'sleep', '60'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  const theirs = () => parseMountinfo(readFileSync(`/proc/${holder.pid}/mountinfo`, 'utf8'));
  for (let i = 0; i < 100 && !mountsAt(path, theirs()).length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(mountsAt(path, theirs()).length, 1, 'the copy exists in the other mount namespace');
  await store.remove('p2');
  assert.equal(mountsAt(path, theirs()).length, 0, 'and went with ours');
});

test('a pin file left without its mount (a crash before the pin) is removed cleanly', async () => {
  await store.create('keep');
  writeFileSync(join(store.dir, 'orphan'), '');
  await store.remove('orphan');
  assert.deepEqual(await store.list(), ['keep']);
  assert.equal(mountsAt(store.dir).length, 1, 'the directory stays a mount while "keep" exists');
  await store.remove('keep');
  assert.deepEqual(mountsAt(store.dir), []);
});
