// skiff cp, both ways, with running and stopped containers: files and directories, owners with and without -a,
// "-" as a tar on stdin and stdout, volumes and bind mounts at their mount points, and the container's root never
// left: a symlink in the container to /etc/shadow or up through ../../.. reaches the container's file or nothing,
// never the host's, writing through a symlink to / writes into the container, and a tar naming "../" is refused.
// After each copy the container is as it was: not paused, its rootfs not mounted if it was stopped.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Parser, type ReadEntry } from 'tar';
import { buildTar } from '../helpers/hostile-tar.js';
import { containerCli } from '../helpers/container-cli.js';

const cli = containerCli('skiff-cp');
const skiffRuntime = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));
const { run } = cli;
after(() => cli.cleanup());

/** The members of a tar: path, type, owner, mode, and a file's content. */
function members(tar: Buffer): { path: string; type: string; uid: number; gid: number; mode: number; body?: string; linkpath?: string }[] {
  const out: ReturnType<typeof members> = [];
  const parser = new Parser({
    onReadEntry: (e: ReadEntry) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => out.push({
        path: e.path, type: e.type, uid: e.uid!, gid: e.gid!, mode: e.mode! & 0o7777,
        ...(e.type === 'File' ? { body: Buffer.concat(chunks).toString() } : {}), ...(e.linkpath ? { linkpath: e.linkpath } : {}),
      }));
    },
  });
  parser.end(tar);
  return out;
}

const inContainer = (name: string, script: string) => {
  const r = run('exec', name, 'sh', '-c', script);
  assert.equal(r.code, 0, r.err);
  return r.out;
};

function statusOf(name: string): string {
  return run('inspect', '--type', 'container', name).out.match(/"Status": "(\w+)"/)?.[1] ?? '';
}

describe('skiff cp', () => {
  const c = cli.unique('cp');
  const host = join(cli.dir, 'host');
  const marker = cli.unique('host-secret');

  before(() => {
    mkdirSync(host);
    const r = run('run', '-d', '--name', c, '--network', 'none', 'localhost/busybox', 'sleep', '600');
    assert.equal(r.code, 0, r.err);
    // A secret the host has and the container must never hand out.
    writeFileSync(join('/tmp', marker), 'host secret\n');
  });
  after(() => {
    run('rm', '-f', c);
    cli.nothingLeft();
    rmSync(join('/tmp', marker), { force: true });
  });

  test('a file and a directory out of a running container, docker\'s naming rules', () => {
    inContainer(c, 'mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && chmod 751 /data/sub && chown 1234:5678 /data/a');
    // To a new name, into an existing directory, and a directory's contents with "/.".
    assert.equal(run('cp', `${c}:/data/a`, join(host, 'a-copy')).code, 0);
    assert.equal(readFileSync(join(host, 'a-copy'), 'utf8'), 'one\n');
    assert.equal(statSync(join(host, 'a-copy')).uid, 0, 'without -a the copy is the copying user\'s');
    mkdirSync(join(host, 'into'));
    const r = run('cp', `${c}:/data`, join(host, 'into'));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual([readFileSync(join(host, 'into/data/sub/b'), 'utf8'), statSync(join(host, 'into/data/sub')).mode & 0o777], ['two\n', 0o751]);
    assert.equal(run('cp', `${c}:/data/.`, join(host, 'into')).code, 0);
    assert.equal(readFileSync(join(host, 'into/a'), 'utf8'), 'one\n');
    // A directory to a path that does not exist takes that name.
    assert.equal(run('cp', `${c}:/data/sub`, join(host, 'renamed')).code, 0);
    assert.equal(readFileSync(join(host, 'renamed/b'), 'utf8'), 'two\n');
    // -a keeps the container's owners.
    assert.equal(run('cp', '-a', `${c}:/data/a`, join(host, 'a-owned')).code, 0);
    assert.deepEqual([statSync(join(host, 'a-owned')).uid, statSync(join(host, 'a-owned')).gid], [1234, 5678]);
    assert.equal(statusOf(c), 'running', 'the container runs again after the copy');
  });

  test('a file and a directory into a running container; owners are root\'s, or the source\'s with -a', () => {
    mkdirSync(join(host, 'tree/inner'), { recursive: true });
    writeFileSync(join(host, 'tree/inner/f'), 'content\n');
    chownSync(join(host, 'tree/inner/f'), 4321, 8765);
    chmodSync(join(host, 'tree/inner/f'), 0o4750);
    symlinkSync('inner/f', join(host, 'tree/link'));
    assert.equal(run('cp', join(host, 'tree'), `${c}:/tmp/`).code, 0);
    assert.equal(inContainer(c, 'stat -c "%u:%g %a" /tmp/tree/inner/f; cat /tmp/tree/link; readlink /tmp/tree/link'), '0:0 4750\ncontent\ninner/f\n');
    assert.equal(run('cp', '-a', join(host, 'tree'), `${c}:/tmp/tree-a`).code, 0);
    assert.equal(inContainer(c, 'stat -c "%u:%g %a" /tmp/tree-a/inner/f'), '4321:8765 4750\n');
    // Over an existing file; a directory onto a file is refused.
    writeFileSync(join(host, 'over'), 'replaced\n');
    assert.equal(run('cp', join(host, 'over'), `${c}:/tmp/tree/inner/f`).code, 0);
    assert.equal(inContainer(c, 'cat /tmp/tree/inner/f'), 'replaced\n');
    const dirOnFile = run('cp', join(host, 'tree'), `${c}:/tmp/tree/inner/f`);
    assert.equal(dirOnFile.code, 1);
    assert.equal(dirOnFile.err, `skiff: cannot copy a directory to a file: ${c}:/tmp/tree/inner/f\n`);
  });

  test('symlinks in the container lead to the container\'s files, never the host\'s', () => {
    inContainer(c, `echo container shadow > /etc/shadow; ln -s /etc/shadow /tmp/abs; ln -s ../../../../../../../etc/shadow /tmp/up;
      ln -s / /tmp/root; ln -s /tmp/${marker} /tmp/leak; ln -s ../../../../../../tmp/${marker} /tmp/leak-up`);
    // Without -L the symlink itself is copied.
    assert.equal(run('cp', `${c}:/tmp/abs`, join(host, 'abs')).code, 0);
    assert.equal(readlinkSync(join(host, 'abs')), '/etc/shadow');
    for (const [src, name] of [[['-L', `${c}:/tmp/abs`], 'abs-l'], [['-L', `${c}:/tmp/up`], 'up-l'], [[`${c}:/tmp/up/../../etc/shadow`], 'lexical']] as const) {
      const r = run('cp', ...src, join(host, name));
      assert.equal(r.code, 0, r.err);
      assert.equal(readFileSync(join(host, name), 'utf8'), 'container shadow\n', src.join(' '));
    }
    const through = run('cp', `${c}:/tmp/root/etc/shadow`, join(host, 'through'));
    assert.equal(through.code, 0, through.err);
    assert.equal(readFileSync(join(host, 'through'), 'utf8'), 'container shadow\n');
    // The host's secret is not in the container: following the links finds nothing.
    for (const link of ['/tmp/leak', '/tmp/leak-up']) {
      const r = run('cp', '-L', `${c}:${link}`, join(host, 'leaked'));
      assert.equal(r.code, 1);
      assert.equal(r.err, `skiff: No such container:path: ${c}:${link}\n`);
      assert.ok(!existsSync(join(host, 'leaked')));
    }
  });

  test('writing through a symlink to / writes into the container', () => {
    const name = cli.unique('written');
    writeFileSync(join(host, 'w'), 'inside\n');
    const r = run('cp', join(host, 'w'), `${c}:/tmp/root/etc/${name}`);
    assert.equal(r.code, 0, r.err);
    assert.equal(inContainer(c, `cat /etc/${name}`), 'inside\n');
    assert.ok(!existsSync(`/etc/${name}`), 'not on the host');
    // The destination directory a symlink out of the root.
    inContainer(c, 'ln -s ../../../../../.. /tmp/updir');
    assert.equal(run('cp', join(host, 'w'), `${c}:/tmp/updir/etc/`).code, 0);
    assert.equal(inContainer(c, 'cat /etc/w'), 'inside\n');
    assert.ok(!existsSync('/etc/w') || readFileSync('/etc/w', 'utf8') !== 'inside\n');
  });

  test('"-": a tar to stdout, and one from stdin; a tar naming "../" or writing through its own symlink stays inside', () => {
    const out = cli.runBytes(['cp', `${c}:/etc/hostname`, '-']);
    assert.equal(out.code, 0, out.err);
    assert.deepEqual(members(out.out).map((m) => [m.path, m.type, m.body]), [['hostname', 'File', inContainer(c, 'cat /etc/hostname')]]);
    const dir = members(cli.runBytes(['cp', `${c}:/tmp/tree/.`, '-']).out).map((m) => m.path);
    assert.ok(dir.includes('./') && dir.includes('./inner/') && dir.includes('./link'), dir.join(' '));

    const good = buildTar([{ path: 'from-stdin/', type: 'Directory' }, { path: 'from-stdin/f', content: 'piped\n', uid: 77, gid: 88, mode: 0o600 }]);
    assert.equal(cli.runBytes(['cp', '-', `${c}:/tmp`], good).code, 0);
    assert.equal(inContainer(c, 'cat /tmp/from-stdin/f; stat -c "%u:%g %a" /tmp/from-stdin/f'), 'piped\n0:0 600\n');
    assert.equal(cli.runBytes(['cp', '-a', '-', `${c}:/tmp`], good).code, 0);
    assert.equal(inContainer(c, 'stat -c "%u:%g" /tmp/from-stdin/f'), '77:88\n');

    const escape = cli.unique('escape');
    const hostile = buildTar([{ path: `../../../../../../tmp/${escape}`, content: 'out\n' }]);
    const refused = cli.runBytes(['cp', '-', `${c}:/tmp`], hostile);
    assert.equal(refused.code, 1);
    assert.equal(refused.err, `skiff: archive entry "../../../../../../tmp/${escape}": ".." would lead out of the destination\n`);
    assert.ok(!existsSync(`/tmp/${escape}`));
    const planted = buildTar([{ path: 'trap', type: 'SymbolicLink', linkpath: '/' }, { path: `trap/etc/${escape}`, content: 'in\n' }]);
    assert.equal(cli.runBytes(['cp', '-', `${c}:/tmp`], planted).code, 0);
    assert.equal(inContainer(c, `cat /etc/${escape}`), 'in\n');
    assert.ok(!existsSync(`/etc/${escape}`), 'the symlink was followed inside the container');
    const toFile = cli.runBytes(['cp', '-', `${c}:/etc/hostname`], good);
    assert.deepEqual([toFile.code, toFile.err], [1, `skiff: destination "${c}:/etc/hostname" must be a directory\n`]);
  });

  test('a cp interrupted (SIGINT) or killed (SIGKILL) while it has the container paused leaves it running', async () => {
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      // stdin is left open: cp waits for the tar with the container paused.
      const child = spawn(process.execPath, cli.args('cp', '-', `${c}:/tmp`), { stdio: ['pipe', 'ignore', 'pipe'] });
      const closed = new Promise<[number | null, string | null]>((r) => child.on('close', (code, sig) => r([code, sig])));
      for (let i = 0; i < 200 && statusOf(c) !== 'paused'; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(statusOf(c), 'paused', `${signal}: cp paused the container`);
      child.kill(signal);
      assert.deepEqual(await closed, [null, signal], 'skiff dies of the signal');
      // SIGINT: put back before dying; SIGKILL: by the next command's reconciliation.
      assert.equal(statusOf(c), 'running', signal);
      assert.equal(run('exec', c, 'true').code, 0);
    }
  });

  test('a paused container stays paused; errors are one line', () => {
    const id = JSON.parse(run('inspect', c).out)[0].Id as string;
    const runtime = (op: string) => spawnSync(process.execPath, [skiffRuntime, '--root', join(cli.state, 'runtime'), op, id], { encoding: 'utf8' });
    assert.equal(runtime('pause').status, 0);
    assert.equal(statusOf(c), 'paused');
    const copied = run('cp', `${c}:/etc/hostname`, join(host, 'while-paused'));
    assert.equal(copied.code, 0, copied.err);
    assert.equal(statusOf(c), 'paused', 'cp does not resume what the user paused');
    assert.equal(runtime('resume').status, 0);
    const r = [
      [['cp', `${c}:/nope`, host], `skiff: No such container:path: ${c}:/nope\n`],
      [['cp', 'no-such-container:/etc', host], 'skiff: No such container: no-such-container\n'],
      [['cp', join(host, 'w'), join(host, 'w2')], 'skiff: must specify at least one container source\n'],
      [['cp', `${c}:/etc`, `${c}:/tmp`], 'skiff: copying between containers is not supported\n'],
      [['cp', join(host, 'nope'), `${c}:/tmp`], `skiff: lstat ${join(host, 'nope')}: no such file or directory\n`],
      [['cp', join(host, 'w'), `${c}:/no/such/dir/f`], `skiff: Could not find the file /no/such/dir in container ${c}\n`],
      [['cp', `${c}:/etc/hostname`, join(host, 'missing-dir/x')], `skiff: invalid output path: directory "${join(host, 'missing-dir')}" does not exist\n`],
      [['cp', `${c}:/etc/hostname`, join(host, 'not-there/')], `skiff: the destination directory ${join(host, 'not-there')}/ does not exist\n`],
      [['cp', '--bogus', `${c}:/etc`, host], "skiff: unknown option '--bogus' (see 'skiff cp --help')\n"],
    ] as const;
    for (const [args, line] of r) {
      const got = run(...args);
      assert.deepEqual([got.code, got.err], [1, line], args.join(' '));
    }
    assert.equal(statusOf(c), 'running');
  });
});

describe('skiff cp with a stopped container, volumes and bind mounts', () => {
  const c = cli.unique('cpvol');
  const vol = cli.unique('vol');
  const bind = join(cli.dir, 'bind');
  const ro = join(cli.dir, 'ro');

  before(() => {
    mkdirSync(bind);
    mkdirSync(ro);
    writeFileSync(join(ro, 'f'), 'read-only\n');
    const r = run('create', '--name', c, '--network', 'none', '-v', `${vol}:/data`, '-v', `${bind}:/srv/bind`, '-v', `${ro}:/srv/ro:ro`, 'localhost/busybox', 'sh', '-c', 'cat /data/in /srv/bind/in /srv/ro/f');
    assert.equal(r.code, 0, r.err);
  });
  after(() => {
    run('rm', '-f', '-v', c);
    run('volume', 'rm', vol);
    cli.nothingLeft();
  });

  test('into a created container: the volume, the bind mount and the rootfs; its rootfs unmounted after', () => {
    const f = join(cli.dir, 'payload');
    writeFileSync(f, 'payload\n');
    for (const dest of ['/data/in', '/srv/bind/in', '/root/in']) {
      const r = run('cp', f, `${c}:${dest}`);
      assert.equal(r.code, 0, `${dest}: ${r.err}`);
    }
    assert.equal(readFileSync(join(bind, 'in'), 'utf8'), 'payload\n', 'the bind mount\'s host directory');
    assert.equal(readFileSync(join(cli.root, 'volumes', vol, '_data/in'), 'utf8'), 'payload\n', 'the volume');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(cli.root, 'containers')), 'the rootfs is not left mounted');
    const ro = run('cp', f, `${c}:/srv/ro/g`);
    assert.deepEqual([ro.code, ro.err], [1, `skiff: ${c}:/srv/ro: mounted volume is marked read-only\n`]);
    // The container sees what was copied.
    const started = run('start', '-a', c);
    assert.equal(started.out, 'payload\npayload\nread-only\n', started.err);
  });

  test('out of an exited container: the rootfs changes and the mounts', () => {
    const r = run('cp', `${c}:/root/in`, join(cli.dir, 'back'));
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(cli.dir, 'back'), 'utf8'), 'payload\n');
    const all = cli.runBytes(['cp', `${c}:/srv`, '-']);
    assert.deepEqual(members(all.out).filter((m) => m.type === 'File').map((m) => [m.path, m.body]), [['srv/bind/in', 'payload\n'], ['srv/ro/f', 'read-only\n']]);
    assert.ok(lstatSync(join(cli.dir, 'back')).isFile());
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(cli.root, 'containers')));
  });
});

