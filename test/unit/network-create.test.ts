// skiff's own networks without touching the system: the default skiff0 conflist, `network create` checks, -p parsing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Networks } from '../../src/network/networks.js';
import { checkPortMappings, parsePortMapping } from '../../src/network/port-mapping.js';

const root = mkdtempSync(join(tmpdir(), 'skiff-net-unit-'));
after(() => rmSync(root, { recursive: true, force: true }));
const networks = new Networks({ root, state: join(root, 'state'), extraConfDirs: [], forwardAccepts: true });

test('skiff0 is written on first use: bridge, host-local on 10.89.0.0/16, masqueraded by skiff, portmap with snat', async () => {
  const net = await networks.get('skiff0');
  const file = JSON.parse(readFileSync(join(root, 'cni/net.d/skiff0.conflist'), 'utf8'));
  assert.equal(net.file, join(root, 'cni/net.d/skiff0.conflist'));
  assert.deepEqual(file, {
    cniVersion: '1.0.0', name: 'skiff0', skiffMasquerade: true,
    plugins: [
      {
        type: 'bridge', bridge: 'skiff0', isGateway: true, ipMasq: false, hairpinMode: true, capabilities: { ips: true },
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.89.0.0/16', gateway: '10.89.0.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(root, 'state', 'cni/ipam') },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  });
  await networks.ensureDefault();
  assert.equal((await networks.list()).networks.length, 1, 'written once');
});

test('a host whose FORWARD policy drops gets the firewall plugin in new networks', async () => {
  const strict = new Networks({ root: join(root, 'strict'), state: join(root, 'strict-state'), extraConfDirs: [], forwardAccepts: false });
  const net = await strict.create({ name: 'fw', driver: 'bridge', subnet: '10.213.60.0/24' });
  assert.deepEqual(net.plugins.map((p) => p.type), ['bridge', 'portmap', 'firewall']);
  assert.equal(net.plugins[0].bridge, 'skiff-fw');
});

test('network create names every problem in one line', async () => {
  await assert.rejects(networks.create({ name: '-x', driver: 'bridge', subnet: '10.89.1.5/16', gateway: '10.90.0.1', device: 'a-very-long-bridge-name' }), {
    message: 'network create -x: name "-x": use letters, digits, _ . - (not starting with . or -); ' +
      '--subnet: "10.89.1.5/16" has host bits set (the subnet is 10.89.0.0/16); --bridge: "a-very-long-bridge-name" is not an interface name (1-15 of letters, digits, _ . -)',
  });
  await assert.rejects(networks.create({ name: 'n1', driver: 'bridge', subnet: '10.213.61.0/24', gateway: '10.213.62.1' }),
    /--gateway: 10\.213\.62\.1 is not a host address of 10\.213\.61\.0\/24/);
  await assert.rejects(networks.create({ name: 'n2', driver: 'bridge', subnet: '10.89.128.0/17' }), /--subnet: 10\.89\.128\.0\/17 overlaps network skiff0's 10\.89\.0\.0\/16/);
  await assert.rejects(networks.create({ name: 'n3', driver: 'bridge', subnet: '127.0.0.0/16' }), /--subnet: 127\.0\.0\.0\/16 overlaps 127\.0\.0\.1\/8 on host interface lo/);
  await assert.rejects(networks.create({ name: 'n4', driver: 'bridge', subnet: '10.213.63.0/31' }), /--subnet: \/31 leaves no room/);
  await assert.rejects(networks.create({ name: 'skiff0', driver: 'bridge', subnet: '10.213.64.0/24' }), /name: network "skiff0" already exists/);
  await assert.rejects(networks.create({ name: 'n5', driver: 'bridge', subnet: '10.213.68.0/24', device: 'skiff0' }), /--bridge: skiff0 is the bridge of network skiff0/);
  await assert.rejects(networks.create({ name: 'n6', driver: 'bridge', subnet: '10.213.69.0/24', device: 'lo' }), /--bridge: host interface lo exists and is not a bridge/);
  await assert.rejects(networks.create({ name: 'mv', driver: 'macvlan', subnet: '10.213.65.0/24' }), /--parent: a macvlan network needs the host interface it sits on/);
  await assert.rejects(networks.create({ name: 'mv', driver: 'ipvlan', subnet: '10.213.65.0/24', device: 'nosuchif0' }), /--parent: no host interface "nosuchif0"/);
  assert.deepEqual((await networks.list()).networks.map((n) => n.name), ['skiff0'], 'nothing written');
});

test('macvlan and ipvlan networks sit on a host interface', async () => {
  const mv = await networks.create({ name: 'mv', driver: 'macvlan', subnet: '10.213.66.0/24', device: 'lo' });
  assert.deepEqual(mv.plugins[0], {
    type: 'macvlan', master: 'lo', mode: 'bridge', capabilities: { ips: true, mac: true },
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.213.66.0/24', gateway: '10.213.66.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(root, 'state', 'cni/ipam') },
  });
  const iv = await networks.create({ name: 'iv', driver: 'ipvlan', subnet: '10.213.67.0/24', gateway: '10.213.67.254', device: 'lo' });
  assert.equal(iv.plugins[0].mode, 'l2');
  await networks.remove('mv');
  await networks.remove('iv');
  await assert.rejects(networks.remove('iv'), /network "iv" not found/);
});

test('-p HOSTPORT:CTRPORT[/tcp|udp], with an optional host address', () => {
  assert.deepEqual(parsePortMapping('8080:80'), { hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  assert.deepEqual(parsePortMapping('127.0.0.1:5353:53/udp'), { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' });
  for (const bad of ['80', '0:80', '8080:70000', '8080:80/sctp', '1.2.3:80:80', 'a:b']) {
    assert.throws(() => parsePortMapping(bad), new RegExp(`^SkiffError: -p ${bad.replace(/\./g, '\\.')}: expected`));
  }
  assert.throws(() => checkPortMappings([parsePortMapping('80:80'), parsePortMapping('80:81')]), /-p: host port 0\.0\.0\.0:80\/tcp is mapped twice/);
  checkPortMappings([parsePortMapping('80:80'), parsePortMapping('80:80/udp')]);
});
