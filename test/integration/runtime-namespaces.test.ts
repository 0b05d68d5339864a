// Namespaces joined by path or not listed at all (config-linux.md "Namespaces"), seen from inside the container and
// from the host: a joined mount namespace gets the rootfs, a joined uts namespace the hostname, a joined user
// namespace its own maps, and a container with no mount namespace of its own is chrooted without a single mount in
// the host's namespace.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMountinfo } from '../../src/common/mountinfo.js';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { Scratch, type TestBundle } from '../helpers/bundle.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

let scratch: Scratch;
/** unshare(1) --mount=FILE needs a parent mount that is not shared (the pin would propagate into itself). */
let pins: string;
const suffix = `${process.pid}-${Date.now() % 100000}`;

before(() => {
  scratch = new Scratch();
  pins = join(scratch.dir, 'pins');
  mountTmpfs(pins, 'private');
});

after(async () => {
  for (const id of await scratch.runtime.store.ids()) await scratch.runtime.delete(id, { force: true }).catch(() => {});
  spawnSync('umount', ['--recursive', pins]);
  await scratch.cleanup();
});

/** A namespace of `type` held by a bind mount of its nsfs file (no process in it), as pods pin theirs. */
function pin(type: 'mount' | 'uts', name: string): string {
  const file = join(pins, name);
  writeFileSync(file, '');
  const r = spawnSync('unshare', [`--${type}=${file}`, 'true'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

function setNamespace(s: Spec, type: 'mount' | 'uts', path: string | undefined): void {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type);
  if (path !== undefined) s.linux!.namespaces.push({ type, path });
}

/** Runs `args` in container `id` (exec) and returns its output lines. */
async function execLines(id: string, b: TestBundle, args: string[]): Promise<string[]> {
  const outPath = join(b.dir, `exec-${Date.now()}.txt`);
  const fd = openSync(outPath, 'w');
  try {
    const e = await scratch.runtime.exec(id, { args, cwd: '/', env: ['PATH=/bin:/usr/bin'], user: { uid: 0, gid: 0 } }, { stdio: ['ignore', fd, fd] });
    assert.equal((await e.exit!).exitCode, 0, readFileSync(outPath, 'utf8'));
  } finally {
    closeSync(fd);
  }
  return readFileSync(outPath, 'utf8').trim().split('\n');
}

async function runLines(id: string, b: TestBundle): Promise<{ exitCode: number; lines: string[] }> {
  const outPath = join(b.dir, 'out.txt');
  const fd = openSync(outPath, 'w');
  try {
    const exit = await scratch.runtime.run(id, { bundle: b.dir, stdio: ['ignore', fd, fd] });
    return { exitCode: exit.exitCode, lines: readFileSync(outPath, 'utf8').trim().split('\n') };
  } finally {
    closeSync(fd);
  }
}

const mountsUnder = (dir: string) => parseMountinfo().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));
const nothingLeft = (id: string) => {
  assert.ok(!existsSync(join(scratch.runtimeRoot, id)), 'state directory removed');
  assert.ok(!existsSync(`/sys/fs/cgroup/pids/skiff/${id}`), 'cgroup removed');
};

describe('namespaces joined by path', () => {
  test('mount: the rootfs is mounted and pivoted in the joined namespace; exec joins it; the host sees none of it', async () => {
    const ns = pin('mount', 'mnt');
    const id = `ns-mnt-${suffix}`;
    const b = scratch.bundle(['sleep', '100'], (s) => setNamespace(s, 'mount', ns));
    writeFileSync(join(b.rootfs, 'marker'), 'in the rootfs\n');
    const state = await scratch.runtime.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    const joined = `mnt:[${statSync(ns).ino}]`;
    assert.equal(readlinkSync(`/proc/${state.pid}/ns/mnt`), joined);
    await scratch.runtime.start(id);
    const lines = await execLines(id, b, ['sh', '-c', 'readlink /proc/self/ns/mnt; cat /marker; grep -c " /proc proc " /proc/self/mounts']);
    assert.deepEqual(lines, [joined, 'in the rootfs', '1']);
    assert.deepEqual(mountsUnder(b.rootfs), [], 'the rootfs bind and the mounts are in the joined namespace only');
    await scratch.runtime.delete(id, { force: true });
    nothingLeft(id);
  });

  test('uts: hostname and domainname are set in the joined namespace, not the host\'s', async () => {
    const ns = pin('uts', 'uts');
    const id = `ns-uts-${suffix}`;
    const hostBefore = hostname();
    const b = scratch.bundle(['sh', '-c', 'hostname; cat /proc/sys/kernel/domainname; readlink /proc/self/ns/uts'], (s) => {
      setNamespace(s, 'uts', ns);
      s.hostname = 'joined-uts';
      s.domainname = 'joined.example';
    });
    const r = await runLines(id, b);
    assert.equal(r.exitCode, 0, r.lines.join('\n'));
    assert.deepEqual(r.lines, ['joined-uts', 'joined.example', `uts:[${statSync(ns).ino}]`]);
    const inside = spawnSync('nsenter', [`--uts=${ns}`, 'hostname'], { encoding: 'utf8' });
    assert.equal(inside.stdout.trim(), 'joined-uts', 'the pinned namespace keeps the hostname');
    assert.equal(hostname(), hostBefore);
    nothingLeft(id);
  });

  test('user: with the namespace\'s own maps in config.json (as containerd and CRI-O send them), as its root', async (t) => {
    // A user namespace held by a process, mapped as a CRI runtime maps a pod's: 0 -> 100000, 65536 ids.
    const holder = spawn('unshare', ['--user', 'sleep', '100'], { stdio: 'ignore' });
    t.after(() => { holder.kill('SIGKILL'); });
    const ns = `/proc/${holder.pid}/ns/user`;
    for (let i = 0; i < 100 && readlinkSync(ns) === readlinkSync('/proc/self/ns/user'); i++) await new Promise((r) => setTimeout(r, 10));
    const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
    for (const file of ['uid_map', 'gid_map']) writeFileSync(`/proc/${holder.pid}/${file}`, '0 100000 65536\n');
    const id = `ns-user-${suffix}`;
    const b = scratch.bundle(['sh', '-c', 'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; echo > /dev/null && echo devices'], (s) => {
      s.linux!.namespaces!.push({ type: 'user', path: ns });
      s.linux!.uidMappings = map;
      s.linux!.gidMappings = map;
    });
    const r = await runLines(id, b);
    assert.equal(r.exitCode, 0, r.lines.join('\n'));
    assert.deepEqual(r.lines.map((l) => l.trim().split(/\s+/).join(' ')), ['0', '0 100000 65536', readlinkSync(ns), 'devices']);
    nothingLeft(id);

    const other = scratch.bundle(['true'], (s) => {
      s.linux!.namespaces!.push({ type: 'user', path: ns });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.linux!.gidMappings = map;
    });
    await assert.rejects(scratch.runtime.create(`${id}-other`, { bundle: other.dir }),
      /linux\.uidMappings: \[\[0,200000,65536\]\] differ from the maps of the user namespace joined at/);
    nothingLeft(`${id}-other`);
  });

  test('a hostname without any uts namespace is refused, naming the field; nothing is left', async () => {
    const id = `ns-nouts-${suffix}`;
    const b = scratch.bundle(['true'], (s) => { setNamespace(s, 'uts', undefined); s.hostname = 'never-set'; });
    await assert.rejects(scratch.runtime.create(id, { bundle: b.dir }),
      /hostname: setting the hostname would change the host's: linux\.namespaces has no uts namespace/);
    assert.notEqual(hostname(), 'never-set');
    nothingLeft(id);
  });
});

describe('no mount namespace of its own', () => {
  /** The default spec without a mount namespace, and without the fields that would need one. */
  const noMountNamespace = (s: Spec) => {
    setNamespace(s, 'mount', undefined);
    s.mounts = [];
    s.root!.readonly = false;
    s.linux!.maskedPaths = [];
    s.linux!.readonlyPaths = [];
  };

  test('chroot into the rootfs, in the runtime\'s mount namespace, nothing mounted; create, start and exec', async () => {
    const id = `ns-nomnt-${suffix}`;
    const b = scratch.bundle(['sleep', '100'], (s) => {
      noMountNamespace(s);
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      s.process!.oomScoreAdj = 123;
    });
    writeFileSync(join(b.rootfs, 'marker'), 'in the rootfs\n');
    const state = await scratch.runtime.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    const pid = state.pid!;
    assert.equal(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'), 'the runtime\'s mount namespace');
    assert.equal(readlinkSync(`/proc/${pid}/root`), b.rootfs);
    assert.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '123');
    const forward = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });
    assert.equal(forward.stdout.trim(), '1', 'the sysctl is the container\'s network namespace\'s');
    // start releases the process through the exec fifo, which it reads without the /proc it no longer has.
    await scratch.runtime.start(id);
    assert.equal((await scratch.runtime.state(id)).status, 'running');
    assert.deepEqual(await execLines(id, b, ['sh', '-c', 'cat /marker; pwd; ls /proc | wc -l']), ['in the rootfs', '/', '0']);
    assert.deepEqual(mountsUnder(b.dir), [], 'not one mount was made');
    await scratch.runtime.delete(id, { force: true });
    nothingLeft(id);
  });

  test('the default spec without its mount namespace: each field that would mount in the host\'s is refused', async () => {
    const id = `ns-nomnt-refused-${suffix}`;
    const b = scratch.bundle(['true'], (s) => setNamespace(s, 'mount', undefined));
    await assert.rejects(scratch.runtime.create(id, { bundle: b.dir }), (err: Error) => {
      for (const field of ['mounts', 'root.readonly', 'linux.maskedPaths', 'linux.readonlyPaths']) {
        assert.match(err.message, new RegExp(`${field.replace('.', '\\.')}: [^;]*host's mount namespace`), err.message);
      }
      return true;
    });
    assert.deepEqual(mountsUnder(b.dir), []);
    nothingLeft(id);
  });
});
