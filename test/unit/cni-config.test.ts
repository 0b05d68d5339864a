// CNI configuration parsing, result conversion between spec versions, mountinfo parsing (no root needed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findNetwork, loadNetworks, parseNetworkConfig } from '../../src/network/cni/config.js';
import { isShared, mountsAt, parseMountinfo } from '../../src/common/mountinfo.js';
import { convertResult } from '../../src/network/cni/result.js';

test('a single-plugin .conf becomes a list of one', () => {
  const n = parseNetworkConfig('{"cniVersion":"0.4.0","name":"n","type":"bridge","bridge":"b0"}', 'x.conf');
  assert.deepEqual(n.plugins, [{ type: 'bridge', bridge: 'b0' }]);
  assert.equal(n.cniVersion, '0.4.0');
});

test('every problem of a config is named with the file', () => {
  assert.throws(() => parseNetworkConfig('{"cniVersion":"2.0.0","name":"bad name","plugins":[{"type":"../evil"}]}', '/etc/cni/net.d/x.conflist'),
    /^SkiffError: \/etc\/cni\/net\.d\/x\.conflist: name: must be a network name .*; cniVersion: "2\.0\.0" is not one of .*; plugins\[0\]\.type: must name a plugin binary$/);
});

test('results convert between 0.4.0 and 1.0.0', () => {
  const old = { cniVersion: '0.4.0', ips: [{ version: '4' as const, address: '10.0.0.2/24', interface: 0 }], interfaces: [{ name: 'eth0' }] };
  const v1 = convertResult(old, '1.0.0');
  assert.deepEqual(v1.ips, [{ address: '10.0.0.2/24', interface: 0 }]);
  assert.equal(v1.cniVersion, '1.0.0');
  assert.deepEqual(convertResult({ cniVersion: '1.0.0', ips: [{ address: 'fd00::2/64' }] }, '0.3.1').ips, [{ version: '6', address: 'fd00::2/64' }]);
});

test('cniVersions (1.1.0): the highest version skiff supports is used', () => {
  const n = parseNetworkConfig('{"cniVersion":"0.4.0","cniVersions":["0.4.0","1.0.0","1.1.0","2.0.0"],"name":"n","plugins":[{"type":"bridge"}]}', 'n.conflist');
  assert.equal(n.cniVersion, '1.1.0');
  assert.throws(() => parseNetworkConfig('{"cniVersions":["9.0.0"],"name":"n","plugins":[{"type":"bridge"}]}', 'n.conflist'),
    /n\.conflist: cniVersions: none of 9\.0\.0 is one of/);
});

test('plugin fields are checked with their JSON path', () => {
  assert.throws(() => parseNetworkConfig('{"cniVersion":"1.0.0","name":"n","disableCheck":"yes","plugins":[{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":"on"}},7]}', 'f.conflist'),
    { message: 'f.conflist: disableCheck: must be true or false; plugins[1].capabilities: must map capability names to true or false; plugins[2]: must be an object' });
});

test('a directory with a broken file: the others load, the broken one is named when asked for', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cni-conf-'));
  try {
    writeFileSync(join(dir, '10-good.conflist'), '{"cniVersion":"1.0.0","name":"good","plugins":[{"type":"bridge"}]}');
    writeFileSync(join(dir, '20-bad.conf'), '{"cniVersion":"1.0.0","name":"bad","type":');
    writeFileSync(join(dir, 'README'), 'not a config');
    const loaded = await loadNetworks(dir);
    assert.deepEqual(loaded.networks.map((n) => n.name), ['good']);
    assert.match(loaded.broken[0].message, /20-bad\.conf: invalid JSON/);
    await assert.rejects(findNetwork([dir], 'bad'), new RegExp(`^SkiffError: network "bad": not found; ${dir}/20-bad\\.conf: invalid JSON`));
    assert.equal((await findNetwork([join(dir, 'none'), dir], 'good')).file, join(dir, '10-good.conflist'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mountinfo: the mounts stacked on a path, with their root and propagation', () => {
  const info = [
    '22 1 0:21 / /run rw,nosuid shared:5 - tmpfs tmpfs rw',
    '80 22 0:21 /skiff/netns /run/skiff/netns rw shared:40 - tmpfs tmpfs rw',
    '81 80 0:4 net:[4026532300] /run/skiff/netns/a\\040b rw - nsfs nsfs rw',
  ].join('\n');
  const entries = parseMountinfo(info);
  const seen = (path: string) => mountsAt(path, entries).map((m) => ({ root: m.root, shared: isShared(m), fstype: m.fstype }));
  assert.deepEqual(seen('/run/skiff/netns'), [{ root: '/skiff/netns', shared: true, fstype: 'tmpfs' }]);
  assert.deepEqual(seen('/run/skiff/netns/a b'), [{ root: 'net:[4026532300]', shared: false, fstype: 'nsfs' }]);
  assert.deepEqual(seen('/run/skiff'), []);
});
