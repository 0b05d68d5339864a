// linux.rootfsPropagation, each of its eight values, read from /proc/self/mountinfo inside the container (the
// optional fields of the root mount: shared:N, master:N, unbindable), side by side with what runc gives for the same
// bundle on this machine. The rootfs lies on a shared tmpfs the test mounts, so that slave and shared show.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountsAt, parseMountinfo } from '../../src/common/mountinfo.js';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { makeBundle, Scratch, type TestBundle } from '../helpers/bundle.js';
import { removeEmptyCgroups } from '../helpers/foreign-cgroups.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

type Propagation = NonNullable<NonNullable<Spec['linux']>['rootfsPropagation']>;

let scratch: Scratch;
let shared: string;
/** The peer group of the shared tmpfs on the host. */
let hostGroup: string;
const suffix = `${process.pid}-${Date.now() % 100000}`;
const runcRoot = () => join(scratch.dir, 'runc');
const hasRunc = spawnSync('runc', ['--version']).status === 0;

before(() => {
  scratch = new Scratch();
  shared = join(scratch.dir, 'shared');
  mountTmpfs(shared, 'shared', '64m');
  hostGroup = mountsAt(shared)[0].optional.find((o) => o.startsWith('shared:'))!.slice('shared:'.length);
});

after(async () => {
  for (const id of await scratch.runtime.store.ids()) await scratch.runtime.delete(id, { force: true }).catch(() => {});
  spawnSync('runc', ['--root', runcRoot(), 'delete', '--force', `prop-runc-${suffix}`]);
  // runc made /skiff in the name=systemd hierarchy too, and leaves it.
  removeEmptyCgroups(['skiff']);
  spawnSync('umount', ['--recursive', shared]);
  await scratch.cleanup();
});

const SHOW_ROOT = ['sh', '-c', 'awk \'$5 == "/"\' /proc/self/mountinfo'];

/** The root mount's optional fields, with the host's peer group named "host" and any other peer group "new". */
function rootPropagation(output: string): string {
  const root = parseMountinfo(output).at(-1);
  if (!root) return `no root mount in: ${output.trim()}`;
  return root.optional.map((o) => {
    const [kind, group] = o.split(':');
    return group === undefined ? o : `${kind}:${group === hostGroup ? 'host' : 'new'}`;
  }).join(' ');
}

function bundleFor(parent: string, value: Propagation | undefined, id: string): TestBundle {
  return makeBundle(parent, SHOW_ROOT, (s) => {
    if (value) s.linux!.rootfsPropagation = value;
    s.linux!.cgroupsPath = `/skiff/${id}`;
  });
}

/** Runs the container with skiff-runtime; its output, once it exited 0. */
async function run(b: TestBundle, id: string): Promise<string> {
  const outPath = join(b.dir, 'out.txt');
  const fd = openSync(outPath, 'w');
  try {
    const exit = await scratch.runtime.run(id, { bundle: b.dir, stdio: ['ignore', fd, fd] });
    assert.equal(exit.exitCode, 0, readFileSync(outPath, 'utf8'));
  } finally {
    closeSync(fd);
  }
  return readFileSync(outPath, 'utf8');
}

function runc(b: TestBundle): string {
  const r = spawnSync('runc', ['--root', runcRoot(), 'run', '--bundle', b.dir, `prop-runc-${suffix}`], { encoding: 'utf8' });
  return r.status === 0 ? rootPropagation(r.stdout) : `fails: ${r.stderr.trim().split('\n').at(-1)}`;
}

/** What the root mount shows for each value (and without one: rslave), the rootfs being on a shared mount. */
const EXPECTED: Record<Propagation | 'unset', string> = {
  unset: 'master:host', private: '', rprivate: '', slave: 'master:host', rslave: 'master:host',
  shared: 'shared:new', rshared: 'shared:new', unbindable: 'unbindable', runbindable: 'unbindable',
};

/**
 * Where runc releases give something else, and why (runc's git history; docs/namespaces-and-mounts.md). Any other
 * difference from the installed runc fails the test.
 */
const RUNC_DIFFERS: Partial<Record<keyof typeof EXPECTED, string>> = {
  unset: 'runc 1.2+ makes the mount holding the rootfs private whatever the propagation, so the root is private',
  slave: 'runc up to 1.5.1 makes the mount holding the rootfs private, so the root is private',
  shared: 'runc before 1.4 does not apply the propagation again to the new root, which stays private',
  rshared: 'runc before 1.4 does not apply the propagation again to the new root, which stays private',
  unbindable: 'runc before 1.4 does not apply it to the new root (private), or fails binding the rootfs (EINVAL)',
  runbindable: 'runc before 1.4 fails binding the rootfs from an unbindable mount (EINVAL)',
};

describe('linux.rootfsPropagation', () => {
  for (const value of Object.keys(EXPECTED) as (keyof typeof EXPECTED)[]) {
    test(`${value}: the root mount is "${EXPECTED[value]}"; runc agrees or differs as documented`, async (t) => {
      const id = `prop-${value}-${suffix}`;
      const b = bundleFor(shared, value === 'unset' ? undefined : value, id);
      assert.equal(rootPropagation(await run(b, id)), EXPECTED[value]);
      if (!hasRunc) return t.skip('runc is not installed');
      const theirs = runc(b);
      if (theirs !== EXPECTED[value]) {
        assert.ok(RUNC_DIFFERS[value], `runc gives "${theirs}" for ${value}, an undocumented difference`);
        t.diagnostic(`runc: "${theirs}": ${RUNC_DIFFERS[value]}`);
      }
    });
  }

  test('an rshared bind of a shared host directory: a mount made in the container reaches the host', async () => {
    const id = `prop-bind-rshared-${suffix}`;
    const b = bundleFor(scratch.dir, 'rshared', id);
    b.spec.mounts!.push({ destination: '/mnt', type: 'bind', source: shared, options: ['rbind', 'rw', 'rshared'] });
    const caps = b.spec.process!.capabilities!;
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_ADMIN'];
    b.spec.process!.args = ['sh', '-c', 'mkdir -p /mnt/made-inside && mount -t tmpfs inside /mnt/made-inside && awk \'$5 == "/mnt"\' /proc/self/mountinfo'];
    b.save();
    const bind = parseMountinfo(await run(b, id)).at(-1)!;
    // Before the fix the rslave of the old root at pivot_root landed on the new root: "shared:new master:host".
    assert.equal(bind.optional.join(' '), `shared:${hostGroup}`, 'the bind is a peer of the host\'s mount');
    const made = mountsAt(join(shared, 'made-inside'));
    assert.equal(made.length, 1, 'the container\'s mount shows on the host');
    spawnSync('umount', [join(shared, 'made-inside')]);
  });

  test('(r)unbindable with the rootfs on the host\'s /: it stays bindable until the mounts are made, then is unbindable', async () => {
    for (const value of ['unbindable', 'runbindable'] as const) {
      const id = `prop-root-${value}-${suffix}`;
      const b = bundleFor(scratch.dir, value, id);
      b.spec.mounts!.push({ destination: '/etc/bound', type: 'bind', source: b.dir, options: ['rbind', 'ro'] });
      b.spec.mounts![1].options!.push('unbindable');
      b.spec.process!.args = ['sh', '-c', 'awk \'$5 == "/" || $5 == "/dev" || $5 == "/etc/bound" || $5 == "/proc/keys"\' /proc/self/mountinfo'];
      b.save();
      const seen = parseMountinfo(await run(b, id));
      const at = (p: string) => seen.filter((m) => m.mountPoint === p).at(-1)?.optional.join(' ');
      assert.equal(at('/'), 'unbindable', value);
      assert.equal(at('/dev'), 'unbindable', 'the mount\'s own unbindable comes after the masks bound /dev/null');
      // A masked path (/dev/null bound on it) and a bind from the host: unbindable only with the recursive value.
      assert.equal(at('/etc/bound'), value === 'runbindable' ? 'unbindable' : '');
      assert.equal(at('/proc/keys'), value === 'runbindable' ? 'unbindable' : '');
    }
  });
});
