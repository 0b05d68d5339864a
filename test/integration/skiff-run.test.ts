// skiff run with the built-in default image: made locally on first use, an overlay rootfs, the image config and
// the flags applied, the exit status passed on as docker's (127 and 126 for a command that cannot be run), a
// missing image pulled with docker's messages, nothing left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ContentStore, type Descriptor } from '../../src/image/content-store.js';
import { buildDefaultImage, DEFAULT_IMAGE } from '../../src/image/default-image.js';
import { entriesTar } from '../../src/image/rootfs-entries.js';
import { imageWithLayer } from '../helpers/layered-image.js';
import { startRegistry } from '../helpers/registry.js';

const skiff = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-run-'));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [skiff, '--root', join(dir, 'root'), '--state', join(dir, 'state'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

after(() => rmSync(dir, { recursive: true, force: true }));

const listed = (path: string) => { try { return readdirSync(path); } catch { return []; } };
const nothingLeft = () => {
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'the overlay is unmounted');
  for (const d of ['state/runtime', 'state/netns', 'state/exits', 'root/containers', 'root/names']) assert.deepEqual(listed(join(dir, d)), [], d);
};

interface LayerMember {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkpath?: string;
}

/** The members of a gzipped layer blob, in order. */
function layerMembers(blob: Buffer): LayerMember[] {
  const members: LayerMember[] = [];
  const parser = new Parser({ onReadEntry: (e: ReadEntry) => {
    members.push({ path: e.path, type: e.type, mode: e.mode!, uid: e.uid!, gid: e.gid!, linkpath: e.linkpath || undefined });
    e.resume();
  } });
  parser.end(gunzipSync(blob));
  return members;
}

describe('skiff run', () => {
  test('the default image runs with PID 1, its own hostname, and leaves nothing behind', () => {
    const r = run('run', '--rm', '--name', 'r1', '--network', 'none', '-h', 'r1', 'localhost/busybox:latest', 'sh', '-c', 'echo pid=$$ host=$(hostname); ls /sys/class/net');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n'), ['pid=1 host=r1', 'lo']);
    nothingLeft();
    assert.match(run('images').out, /^localhost\/busybox +latest /m);
  });

  test('env, workdir, user and entrypoint flags; the exit status comes back', () => {
    const r = run('run', '--rm', '-e', 'FOO=bar', '-w', '/etc', '-u', 'daemon', 'localhost/busybox', 'sh', '-c', 'echo $FOO $(pwd) $(id -u):$(id -g); exit 7');
    assert.equal(r.code, 7, r.err);
    assert.equal(r.out.trim(), 'bar /etc 1:1');
    const e = run('run', '--rm', '--entrypoint', 'echo', 'localhost/busybox', 'from', 'entrypoint');
    assert.equal(e.out.trim(), 'from entrypoint');
  });

  test('a missing image is pulled from the registry, then run', async (t) => {
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const archive = join(dir, 'bb.tar');
    assert.equal(run('save', '-o', archive, 'localhost/busybox').code, 0);
    const copy = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${registry.address}/pulled:1`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    const ref = `${registry.address}/pulled:1`;
    const r = run('run', '--rm', ref, 'sh', '-c', 'echo $HOME; cat /etc/hostname; hostname');
    assert.equal(r.code, 0, r.err);
    // As docker: /etc/hostname is the container's own (its short ID), not the image's.
    assert.match(r.out, /^\/root\n([0-9a-f]{12})\n\1\n$/);
    // As docker run: the pull is announced, then shown on stderr as skiff pull shows it (lines, not on a terminal).
    const [announced, ...progress] = r.err.trim().split('\n');
    assert.equal(announced, `Unable to find image '${ref}' locally`);
    assert.match(progress.join('\n'), /^[0-9a-f]{12} layer: /m);
    assert.match(run('images').out, /pulled/);
    // Present now: no pull, nothing on stderr.
    assert.equal(run('run', '--rm', ref, 'true').err, '');
    assert.equal(run('rmi', ref).code, 0);
    const pulled = run('pull', ref);
    assert.equal(pulled.code, 0, pulled.err);
    assert.deepEqual(progress.sort(), pulled.err.trim().split('\n').sort());
    assert.equal(run('rmi', ref).code, 0);
    // -q: pulled without a word.
    const quiet = run('run', '--rm', '-q', ref, 'echo', 'quiet');
    assert.equal(quiet.code, 0, quiet.err);
    assert.deepEqual([quiet.out, quiet.err], ['quiet\n', '']);
    assert.equal(run('rmi', ref).code, 0);
    rmSync(archive);
  });

  test('image mount (read-only, --writable) and unmount', () => {
    const ro = run('image', 'mount', 'localhost/busybox');
    assert.equal(ro.code, 0, ro.err);
    const path = ro.out.trim();
    assert.ok(readFileSync(join(path, 'etc/passwd'), 'utf8').startsWith('root:'));
    assert.throws(() => writeFileSync(join(path, 'x'), ''), /EROFS/);
    assert.equal(run('image', 'mount', 'localhost/busybox').out.trim(), path, 'mounting again gives the same path');
    assert.equal(run('image', 'unmount', 'localhost/busybox').code, 0);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(path));
    assert.match(run('image', 'unmount', 'localhost/busybox').err, /^skiff: image "localhost\/busybox" is not mounted\n$/);
    const rw = run('image', 'mount', '--writable', 'localhost/busybox').out.trim();
    writeFileSync(join(rw, 'scratch'), 'x');
    assert.equal(run('image', 'umount', 'localhost/busybox').code, 0);
    assert.deepEqual(readdirSync(join(dir, 'root', 'containers')), []);
  });

  test('bad input: one error line, non-zero exit', () => {
    // A missing image is pulled; a registry that is not there is one clear error (port 9 on loopback: nothing listens).
    // docker run's status when the run itself fails is 125.
    const missing = run('run', '--rm', '127.0.0.1:9/no-such-image');
    assert.equal(missing.code, 125);
    const [announced, error, ...more] = missing.err.trim().split('\n');
    assert.equal(announced, "Unable to find image '127.0.0.1:9/no-such-image:latest' locally");
    assert.match(error, /^skiff: 127\.0\.0\.1:9: cannot reach the registry/);
    assert.deepEqual(more, []);
    const quiet = run('run', '--rm', '-q', '127.0.0.1:9/no-such-image');
    assert.equal(quiet.code, 125);
    assert.match(quiet.err, /^skiff: 127\.0\.0\.1:9: cannot reach the registry[^\n]*\n$/);
    assert.match(run('run', '--rm', '-t', 'localhost/busybox', 'true').err, /^skiff: -t: standard input is not a terminal\n$/);
    assert.match(run('run', '--rm', '-w', 'etc', 'localhost/busybox', 'true').err, /^skiff: -w etc: the working directory must be an absolute path\n$/);
    assert.match(run('run', '--rm', '-u', 'nobody-here', 'localhost/busybox', 'true').err, /^skiff: -u: user "nobody-here" is not in the image's \/etc\/passwd\n$/);
    nothingLeft();
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'a failed run unmounts its overlay');
  });

  test('a command that is not found exits 127, one that cannot be invoked 126, with one line naming it', async () => {
    await imageWithLayer(join(dir, 'root'), 'localhost/exec-cases:1', entriesTar([
      { type: 'dir', path: 'opt', mode: 0o755 },
      // execve(2): ENOEXEC for an executable without #! or ELF header; ENOENT when the #! interpreter is missing.
      { type: 'file', path: 'opt/no-shebang', mode: 0o755, content: Buffer.from('echo hi\n') },
      { type: 'file', path: 'opt/bad-interpreter', mode: 0o755, content: Buffer.from('#!/no/such/interpreter\n') },
      { type: 'file', path: 'opt/root-only', mode: 0o700, content: Buffer.from('#!/bin/sh\necho root\n') },
    ]));
    const cases: [string[], number, string][] = [
      [['nosuch'], 127, 'exec "nosuch": executable file not found in $PATH'],
      [['/no/such'], 127, 'exec "/no/such": no such file or directory'],
      [['/bin/sh/x'], 127, 'exec "/bin/sh/x": not a directory'],
      [['/opt/bad-interpreter'], 127, 'exec "/opt/bad-interpreter": no such file or directory (the interpreter it names is missing)'],
      [['/etc/passwd'], 126, 'exec "/etc/passwd": permission denied'],
      [['/etc'], 126, 'exec "/etc": permission denied'],
      [['/opt/no-shebang'], 126, 'exec "/opt/no-shebang": exec format error'],
      [['-u', 'nobody', 'localhost/exec-cases:1', '/opt/root-only'], 126, 'exec "/opt/root-only": permission denied'],
    ];
    for (const [args, code, line] of cases) {
      const r = args[0] === '-u' ? run('run', '--rm', ...args) : run('run', '--rm', 'localhost/exec-cases:1', ...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.err, `skiff: ${line}\n`);
      assert.equal(r.out, '');
      nothingLeft();
    }
    assert.equal(run('run', '--rm', 'localhost/exec-cases:1', '/opt/root-only').out, 'root\n');
    assert.equal(run('rmi', 'localhost/exec-cases:1').code, 0);
  });

  test('the default image: the modes intended, owned by root, the host platform, the same bytes on every build', async () => {
    const [a, b] = [join(dir, 'build-a'), join(dir, 'build-b')];
    const built = await buildDefaultImage(a);
    assert.deepEqual(await buildDefaultImage(b), built);
    const content = new ContentStore(a);
    const manifest = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>(built.digest);
    const config = await content.readJson<{ architecture: string; variant?: string; os: string }>(manifest.config.digest);
    const expected = ({ x64: ['amd64'], arm64: ['arm64', 'v8'], ia32: ['386'], s390x: ['s390x'], ppc64: ['ppc64le'], riscv64: ['riscv64'] } as Record<string, string[]>)[process.arch];
    assert.deepEqual([config.os, config.architecture, config.variant].filter(Boolean), ['linux', ...expected]);

    const members = layerMembers(readFileSync(join(a, 'content', 'blobs', 'sha256', manifest.layers[0].digest.slice(7))));
    const byPath = new Map(members.map((m) => [m.path.replace(/\/$/, ''), m]));
    const modeOf = (p: string) => byPath.get(p)?.mode.toString(8);
    assert.deepEqual(['./', 'tmp', 'var/tmp', 'root', 'etc', 'bin', 'usr/bin', 'proc'].map((p) => modeOf(p === './' ? '.' : p)),
      ['755', '1777', '1777', '700', '755', '755', '755', '755']);
    assert.deepEqual(['bin/busybox', 'etc/passwd', 'etc/group', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf'].map(modeOf),
      ['755', '644', '644', '644', '644', '644']);
    for (const m of members) {
      assert.deepEqual([m.uid, m.gid], [0, 0], m.path);
      if (m.type === 'Directory') assert.ok(['755', '1777', '700'].includes(m.mode.toString(8)), m.path);
      if (m.type === 'Link') assert.equal(m.linkpath, 'bin/busybox', m.path);
    }
    assert.equal(members.filter((m) => m.type === 'File' && m.linkpath === undefined && m.path.startsWith('bin/')).length, 1, 'one copy of busybox');
    assert.equal(byPath.get('etc/mtab')?.linkpath, '../proc/mounts');
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });

    // What that means inside: any user may make files in /tmp and /var/tmp, nobody may remove another's.
    const r = run('run', '--rm', '-u', 'nobody', DEFAULT_IMAGE, 'sh', '-c', 'touch /tmp/x /var/tmp/y && stat -c "%a %u" /tmp /var/tmp /root');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '1777 0\n1777 0\n700 0\n');
    assert.equal(run('run', '--rm', '-u', 'nobody', DEFAULT_IMAGE, 'touch', '/tmp/x').code, 0);
    nothingLeft();
  });
});
