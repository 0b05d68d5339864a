// skiffd's configuration: the skiff CLI's defaults, root and state moving what lives under them, flags over the
// file, and every bad key named at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig, loadConfig, parseHostPort, validateConfig } from '../../src/cri/config.js';

const dir = mkdtempSync(join(tmpdir(), 'skiffd-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('defaults: the skiff CLI\'s root and state, the socket in the state, CNI where the kubelet looks, a free loopback port', () => {
  assert.deepEqual(loadConfig(join(dir, 'absent.json'), false), {
    socket: '/run/skiff/skiffd.sock', root: '/var/lib/skiff', state: '/run/skiff', cniConfDir: '/etc/cni/net.d',
    cniBinDirs: ['/usr/lib/cni', '/opt/cni/bin'], streamingAddress: '127.0.0.1:0', registries: '/var/lib/skiff/registries.json',
    cgroupParent: '/skiff', runtimeHandlers: {}, logLevel: 'info',
  });
  assert.deepEqual(defaultConfig('/r', '/s'), { ...defaultConfig(), root: '/r', state: '/s', socket: '/s/skiffd.sock', registries: '/r/registries.json' });
});

test('flags over the file; a socket set anywhere stays as set', () => {
  const file = join(dir, 'skiffd.json');
  writeFileSync(file, JSON.stringify({ root: '/data', socket: '/custom.sock', logLevel: 'debug' }));
  const c = loadConfig(file, true, { state: '/st', logLevel: 'warn', cniBinDirs: undefined });
  assert.deepEqual([c.root, c.state, c.socket, c.registries, c.logLevel, c.cniBinDirs], ['/data', '/st', '/custom.sock', '/data/registries.json', 'warn', ['/usr/lib/cni', '/opt/cni/bin']]);
});

test('every problem in one error, the file named; values from flags named by their flag', () => {
  assert.throws(() => validateConfig({ root: 'rel', cniBinDirs: [], cgroupParent: 'x/../y' }, 'f.json'),
    { message: 'f.json: root: "rel" is not an absolute path; cniBinDirs: must be a non-empty array of absolute paths; cgroupParent: "x/../y" is not a cgroupfs path (e.g. /skiff)' });
  const file = join(dir, 'flags.json');
  writeFileSync(file, JSON.stringify({ cgroupParent: 'relative' }));
  assert.throws(() => loadConfig(file, true, { root: 'rel' }, (k) => `--${k}`),
    { message: `${file}: --root (root): "rel" is not an absolute path; cgroupParent: "relative" is not a cgroupfs path (e.g. /skiff)` });
});

test('runtimeHandlers: names are DNS labels, each a binary that is an executable file', () => {
  const ok = validateConfig({ runtimeHandlers: { runc: { binary: '/usr/sbin/runc' } } }, 'f.json');
  assert.deepEqual(ok.runtimeHandlers, { runc: { binary: '/usr/sbin/runc' } });
  assert.deepEqual(validateConfig({}, 'f.json').runtimeHandlers, {});
  assert.throws(() => validateConfig({ runtimeHandlers: { Runc: { binary: '/usr/sbin/runc' }, crun: { binary: 'crun' }, x: { binary: '/etc/passwd' }, y: { binary: '/usr/sbin/runc', root: '/r' }, z: 'runc' } }, 'f.json'),
    (err: Error) => {
      for (const part of ['runtimeHandlers.Runc: a handler name is a DNS label', 'runtimeHandlers.crun.binary: "crun" is not an absolute path',
        'runtimeHandlers.x.binary: /etc/passwd is not an executable file', 'runtimeHandlers.y.root: unknown key (known: binary)', 'runtimeHandlers.z: must be { "binary": PATH }']) {
        assert.ok(err.message.includes(part), `${part} in ${err.message}`);
      }
      return true;
    });
});

test('IP:PORT: IPv4 or bracketed IPv6 literals, port 0 to 65535', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseHostPort('[::1]:10010'), { host: '::1', port: 10010 });
  for (const bad of ['localhost:1', '127.0.0.1', '::1:80', '1.2.3.4:70000', '[::1]']) assert.equal(parseHostPort(bad), undefined, bad);
});
