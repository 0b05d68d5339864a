// CNI configuration parsing and result conversion between spec versions (no root needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetworkConfig } from '../../src/network/cni/config.js';
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
