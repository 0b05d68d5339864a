// Image config -> runtime spec: what docker does with Entrypoint/Cmd, Env, WorkingDir and User, plus the fields
// that are returned rather than applied. The rootfs is a temp dir with the account files the case needs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { containerSpec, imageDefaults, resolveUser, STOP_SIGNAL_ANNOTATION, type ImageConfig } from '../../src/image/container-config.js';

const rootfs = mkdtempSync(join(tmpdir(), 'skiff-cc-'));
after(() => rmSync(rootfs, { recursive: true, force: true }));
mkdirSync(join(rootfs, 'etc'));
writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app,other\naudio:x:29:app\nstaff:x:50:\n');

const spec = (config: ImageConfig['config'], o: Partial<Parameters<typeof containerSpec>[2]> = {}) =>
  containerSpec({ config }, rootfs, { hostname: 'h', ...o });

describe('containerSpec', () => {
  test('Entrypoint + Cmd; a command replaces Cmd; --entrypoint drops the image Cmd', () => {
    const c = { Entrypoint: ['/bin/ep'], Cmd: ['--flag'] };
    assert.deepEqual(spec(c).process!.args, ['/bin/ep', '--flag']);
    assert.deepEqual(spec(c, { command: ['x'] }).process!.args, ['/bin/ep', 'x']);
    assert.deepEqual(spec(c, { entrypoint: ['sh'] }).process!.args, ['sh']);
    assert.deepEqual(spec(c, { entrypoint: ['sh'], command: ['-c', 'true'] }).process!.args, ['sh', '-c', 'true']);
    assert.throws(() => spec({}), /the image has no Entrypoint or Cmd: give a command/);
  });

  test('Env: PATH default, image values, flags last; HOME from passwd unless set; HOSTNAME', () => {
    const env = spec({ Cmd: ['x'], Env: ['A=1', 'PATH=/img'], User: 'app' }, { env: ['A=2', 'B=x=y'] }).process!.env;
    assert.deepEqual(env, ['PATH=/img', 'HOSTNAME=h', 'A=2', 'B=x=y', 'HOME=/home/app']);
    assert.ok(spec({ Cmd: ['x'], Env: ['HOME=/custom'] }).process!.env!.includes('HOME=/custom'));
    assert.throws(() => spec({ Cmd: ['x'] }, { env: ['NOVALUE'] }), /-e NOVALUE: expected KEY=VALUE/);
    assert.throws(() => spec({ Cmd: ['x'], Env: ['bad'] }), /image config: config.Env\[0\]: "bad" is not KEY=VALUE/);
  });

  test('WorkingDir, -w, terminal, root path, hostname', () => {
    const s = spec({ Cmd: ['x'], WorkingDir: '/srv' }, { terminal: true });
    assert.equal(s.process!.cwd, '/srv');
    assert.equal(s.process!.terminal, true);
    assert.ok(s.process!.env!.includes('TERM=xterm'));
    assert.deepEqual(s.root, { path: rootfs, readonly: false });
    assert.equal(s.hostname, 'h');
    assert.equal(spec({ Cmd: ['x'], WorkingDir: '' }).process!.cwd, '/');
    assert.equal(spec({ Cmd: ['x'] }, { workdir: '/tmp' }).process!.cwd, '/tmp');
    assert.throws(() => spec({ Cmd: ['x'], WorkingDir: 'rel' }), /config.WorkingDir: "rel" is not an absolute path/);
  });

  test('labels and the stop signal become annotations', () => {
    const s = spec({ Cmd: ['x'], Labels: { a: 'b' }, StopSignal: 'quit' });
    assert.deepEqual(s.annotations, { a: 'b', [STOP_SIGNAL_ANNOTATION]: 'SIGQUIT' });
    assert.equal(spec({ Cmd: ['x'] }).annotations, undefined);
  });
});

describe('resolveUser', () => {
  test('names, numbers, groups and supplementary groups as docker resolves them', () => {
    assert.deepEqual(resolveUser('app', rootfs), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' });
    assert.deepEqual(resolveUser('app:staff', rootfs), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
    assert.deepEqual(resolveUser('1000:7', rootfs), { uid: 1000, gid: 7, additionalGids: [], home: '/home/app' });
    assert.deepEqual(resolveUser('4242', rootfs), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
    assert.throws(() => resolveUser('ghost', rootfs, '-u'), /^SkiffError: -u: user "ghost" is not in the image's \/etc\/passwd$/);
    assert.throws(() => resolveUser('app:ghosts', rootfs), /group "ghosts" is not in the image's \/etc\/group/);
    assert.throws(() => resolveUser('a:b:c', rootfs), /"a:b:c" is not user\[:group\]/);
  });

  test('an image whose /etc/passwd is a symlink to a host path reads its own file, not the host\'s', () => {
    const other = mkdtempSync(join(tmpdir(), 'skiff-cc-link-'));
    try {
      mkdirSync(join(other, 'etc'));
      mkdirSync(join(other, 'images/etc'), { recursive: true });
      writeFileSync(join(other, 'images/etc/passwd'), 'inside:x:77:77::/:/bin/sh\n');
      // Absolute: resolved inside the rootfs, so it names <rootfs>/images/etc/passwd, never the host's /images/...
      symlinkSync('/images/etc/passwd', join(other, 'etc/passwd'));
      assert.equal(resolveUser('inside', other).uid, 77);
      symlinkSync('/etc/passwd', join(other, 'etc/group'));
      assert.throws(() => resolveUser('inside:root', other), /group "root" is not in the image's \/etc\/group/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('imageDefaults', () => {
  test('exposed ports, volumes, labels, stop signal', () => {
    assert.deepEqual(imageDefaults({ config: { ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8080': {} }, Volumes: { '/data': {} }, StopSignal: '15' } }), {
      exposedPorts: [{ port: 53, protocol: 'udp' }, { port: 80, protocol: 'tcp' }, { port: 8080, protocol: 'tcp' }],
      volumes: ['/data'], labels: {}, stopSignal: '15',
    });
    assert.deepEqual(imageDefaults({}), { exposedPorts: [], volumes: [], labels: {}, stopSignal: undefined });
  });

  test('every bad field is reported at once, by its JSON path', () => {
    assert.throws(() => imageDefaults({ config: { ExposedPorts: { '99999/tcp': {}, '80/xyz': {} }, Volumes: { data: {} }, StopSignal: 'SIGNOPE' } }),
      { message: 'image config: config.ExposedPorts["99999/tcp"]: expected PORT or PORT/tcp|udp|sctp; config.ExposedPorts["80/xyz"]: expected PORT or PORT/tcp|udp|sctp; config.Volumes["data"]: not an absolute path; config.StopSignal: unknown signal "SIGNOPE"' });
  });
});
