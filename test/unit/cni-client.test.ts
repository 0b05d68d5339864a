// The CNI client against a stand-in plugin that records its environment and stdin (no root, no network).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ResultCache } from '../../src/network/cni/cache.js';
import { CniClient } from '../../src/network/cni/client.js';
import { parseNetworkConfig, type NetworkConfigList } from '../../src/network/cni/config.js';
import { fakePlugins } from './cni-fake-plugin.js';

const fake = fakePlugins(['first', 'second', 'third']);
const work = mkdtempSync(join(tmpdir(), 'skiff-cni-client-'));
after(() => {
  fake.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** A fresh cache dir per test, and a fresh client on it (a second client on the same dir is "after a restart"). */
function setup() {
  const cacheDir = join(work, `cache${n++}`);
  return { cacheDir, client: () => new CniClient({ pluginDirs: [fake.dir], cacheDir, timeoutMs: 5000 }) };
}

function net(version: string, plugins: Record<string, unknown>[], extra: Record<string, unknown> = {}): NetworkConfigList {
  return parseNetworkConfig(JSON.stringify({ cniVersion: version, name: 'fakenet', ...extra, plugins: plugins.map((p) => ({ log: fake.log, ...p })) }), '/etc/fake/fakenet.conflist');
}

const since = (mark: number) => fake.calls().slice(mark);
// A namespace path that exists (ADD passes it on; DEL only while it is still a namespace).
const attachment = { containerId: 'c1', netns: '/proc/self/ns/net', ifName: 'eth0' };

test('ADD chains the plugins: CNI_* variables, name and cniVersion, declared runtimeConfig only, prevResult', async () => {
  const { client } = setup();
  const mark = fake.calls().length;
  const result0 = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }] };
  const network = net('1.0.0', [
    { type: 'first', result: result0, capabilities: { ips: true } },
    { type: 'second', capabilities: { portMappings: true, bandwidth: false } },
  ]);
  const portMappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
  const result = await client().add(network, {
    ...attachment, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web' },
    runtimeConfig: { portMappings, ips: ['10.0.0.2/24'], bandwidth: { ingressRate: 1000 } },
  });
  assert.deepEqual(result, result0);
  const [a, b] = since(mark);
  assert.deepEqual(a.env, {
    CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: fake.dir,
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web',
  });
  assert.equal(a.stdin.name, 'fakenet');
  assert.equal(a.stdin.cniVersion, '1.0.0');
  assert.deepEqual(a.stdin.runtimeConfig, { ips: ['10.0.0.2/24'] });
  assert.equal(a.stdin.prevResult, undefined);
  assert.deepEqual(b.stdin.runtimeConfig, { portMappings }, 'bandwidth is declared false, so it is not passed');
  assert.deepEqual(b.stdin.prevResult, result0);
  assert.deepEqual(CniClient.undeclared(network, { mac: '02:00:00:00:00:01', ips: [] }), ['mac']);
});

test('DEL after a restart runs from the cache: reverse order, prevResult, the same CNI_ARGS and runtimeConfig', async () => {
  const { client } = setup();
  const network = net('0.4.0', [{ type: 'first', capabilities: { mac: true } }, { type: 'second' }]);
  const added = await client().add(network, { ...attachment, args: { K8S_POD_NAME: 'p' }, runtimeConfig: { mac: '02:00:00:00:00:01' } });
  const mark = fake.calls().length;
  await client().del(network, attachment);
  const [b, a] = since(mark);
  assert.deepEqual([b.type, a.type], ['second', 'first']);
  for (const c of [a, b]) {
    assert.equal(c.env.CNI_COMMAND, 'DEL');
    assert.equal(c.env.CNI_ARGS, 'IgnoreUnknown=1;K8S_POD_NAME=p');
    assert.deepEqual(c.stdin.prevResult, added);
  }
  assert.deepEqual(a.stdin.runtimeConfig, { mac: '02:00:00:00:00:01' });
  // Again, for a namespace that is gone: still fine, without prevResult and without CNI_NETNS.
  const mark2 = fake.calls().length;
  await client().del(network, { ...attachment, netns: join(work, 'gone') });
  const again = since(mark2);
  assert.equal(again.length, 2);
  assert.equal(again[0].stdin.prevResult, undefined);
  assert.equal(again[0].env.CNI_NETNS, undefined);
  // A pin file a killed start made but never bound: it exists, yet it is no namespace.
  const unbound = join(work, 'unbound-pin');
  writeFileSync(unbound, '');
  const mark3 = fake.calls().length;
  await client().del(network, { ...attachment, netns: unbound });
  assert.deepEqual(since(mark3).map((c) => c.env.CNI_NETNS), [undefined, undefined]);
});

test('an ADD failing in the second plugin DELs both, last first, and names network, file, plugin and code', async () => {
  const { client, cacheDir } = setup();
  const network = net('1.0.0', [{ type: 'first' }, { type: 'second', fail: { command: 'ADD', code: 7, msg: 'bad subnet', details: 'ranges[0]' } }]);
  const mark = fake.calls().length;
  await assert.rejects(client().add(network, attachment), (err: Error) => {
    assert.equal(err.message, 'network fakenet (/etc/fake/fakenet.conflist): plugins[1] (second) ADD failed: bad subnet (ranges[0]) [code 7: invalid network config]');
    return true;
  });
  assert.deepEqual(since(mark).map((c) => `${c.type} ${c.env.CNI_COMMAND}`), ['first ADD', 'second ADD', 'second DEL', 'first DEL']);
  assert.ok(!existsSync(join(cacheDir, 'results', 'fakenet', 'c1@eth0')), 'nothing cached');
});

test('a second ADD of the same attachment is refused until DEL', async () => {
  const { client } = setup();
  const network = net('1.0.0', [{ type: 'first' }]);
  await client().add(network, attachment);
  await assert.rejects(client().add(network, attachment), /fakenet: c1 is already attached as eth0 \(detach it first\)/);
  await client().del(network, attachment);
  await client().add(network, attachment);
});

test('a plugin that does not answer is killed after the timeout; one printing garbage is named', async () => {
  const { cacheDir } = setup();
  const quick = new CniClient({ pluginDirs: [fake.dir], cacheDir, timeoutMs: 300 });
  await assert.rejects(quick.add(net('1.0.0', [{ type: 'first', sleepMs: 10_000 }]), attachment), /plugins\[0\] \(first\) ADD failed: no answer after 0\.3s \(killed\); the DEL after it failed too, so the attachment stays cached/);
  // Its DEL did not answer either: the attachment stays cached, so a later DEL can still release what ADD made.
  assert.ok(existsSync(join(cacheDir, 'results', 'fakenet', 'c1@eth0')), 'cached for a later DEL');
  await assert.rejects(quick.add(net('1.0.0', [{ type: 'first', garbage: true }]), { ...attachment, containerId: 'c2' }), /plugins\[0\] \(first\) ADD failed: printed something that is not JSON: panic: runtime error/);
});

test('results are converted to the network\'s version between plugins', async () => {
  const { client } = setup();
  const old = { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24', interface: 0 }], interfaces: [{ name: 'eth0' }] };
  const mark = fake.calls().length;
  const r = await client().add(net('1.0.0', [{ type: 'first', result: old }, { type: 'second' }]), attachment);
  assert.deepEqual(since(mark)[1].stdin.prevResult, { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: 0 }], interfaces: [{ name: 'eth0' }] });
  assert.equal(r.cniVersion, '1.0.0');
  const r031 = await client().add(net('0.3.1', [{ type: 'first', result: { cniVersion: '1.0.0', ips: [{ address: 'fd00::2/64' }] } }]), { ...attachment, ifName: 'eth1' });
  assert.deepEqual(r031, { cniVersion: '0.3.1', ips: [{ version: '6', address: 'fd00::2/64' }] });
});

test('DEL on a 0.3.1 network gets no prevResult (it came with 0.4.0)', async () => {
  const { client } = setup();
  const network = net('0.3.1', [{ type: 'first' }]);
  await client().add(network, attachment);
  const mark = fake.calls().length;
  await client().del(network, attachment);
  assert.equal(since(mark)[0].stdin.prevResult, undefined);
});

test('CHECK passes the cached result (0.4.0 and later only)', async () => {
  const { client } = setup();
  const network = net('0.4.0', [{ type: 'first' }]);
  const added = await client().add(network, attachment);
  const mark = fake.calls().length;
  await client().check(network, attachment);
  const [c] = since(mark);
  assert.equal(c.env.CNI_COMMAND, 'CHECK');
  assert.deepEqual(c.stdin.prevResult, added);
  await assert.rejects(client().check(net('0.3.1', [{ type: 'first' }]), attachment), /CHECK needs cniVersion 0\.4\.0 or later, not 0\.3\.1/);
});

test('STATUS and GC (1.1.0): only CNI_COMMAND and CNI_PATH; GC DELs stale cached attachments, then tells the plugins', async () => {
  const { client } = setup();
  const network = net('1.1.0', [{ type: 'first' }, { type: 'second' }]);
  let mark = fake.calls().length;
  await client().status(network);
  assert.deepEqual(since(mark).map((c) => c.env), [{ CNI_COMMAND: 'STATUS', CNI_PATH: fake.dir }, { CNI_COMMAND: 'STATUS', CNI_PATH: fake.dir }]);
  await client().status(net('1.0.0', [{ type: 'first', fail: { command: 'STATUS', code: 50, msg: 'down' } }]));
  await assert.rejects(client().status(net('1.1.0', [{ type: 'first', fail: { command: 'STATUS', code: 50, msg: 'no leases' } }])),
    /STATUS failed: no leases \[code 50: the plugin is not available\]/);

  await client().add(network, { ...attachment, containerId: 'keep' });
  await client().add(network, { ...attachment, containerId: 'stale' });
  mark = fake.calls().length;
  await client().gc(network, [{ containerId: 'keep', ifName: 'eth0' }]);
  const calls = since(mark);
  assert.deepEqual(calls.map((c) => `${c.type} ${c.env.CNI_COMMAND} ${c.env.CNI_CONTAINERID ?? ''}`.trim()),
    ['second DEL stale', 'first DEL stale', 'first GC', 'second GC']);
  assert.deepEqual(calls[2].stdin['cni.dev/valid-attachments'], [{ containerID: 'keep', ifname: 'eth0' }]);
  assert.deepEqual((await client().cache.list({ network: 'fakenet' })).map((a) => a.containerId), ['keep']);
});

test('VERSION lists what a plugin supports', async () => {
  assert.deepEqual(await setup().client().version('first'), ['0.3.1', '0.4.0', '1.0.0', '1.1.0']);
});

test('the cache tells apart names with dashes: network a-b container c, and network a container b-c', async () => {
  const cache = new ResultCache(join(work, 'dashes'));
  const entry = (networkName: string, containerId: string) => ({
    kind: 'cniCacheV1' as const, containerId, networkName, ifName: 'eth0', netns: '/x', config: { cniVersion: '1.0.0', name: networkName, plugins: [] }, result: { cniVersion: '1.0.0' },
  });
  await cache.put(entry('a-b', 'c'));
  await cache.put(entry('a', 'b-c'));
  assert.deepEqual((await cache.list({ network: 'a' })).map((e) => e.containerId), ['b-c']);
  assert.deepEqual((await cache.list({ containerId: 'c' })).map((e) => e.networkName), ['a-b']);
  assert.equal((await cache.list()).length, 2);
});
