// CNI networking with the real plugins (Debian's containernetworking-plugins) in network namespaces the test makes.
// Traffic stays on loopback and inside those namespaces. Each test uses its own bridge and a 10.213.x.0/24 subnet.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NetnsStore } from '../../src/network/netns.js';
import { masqueradeChain } from '../../src/network/masquerade.js';
import { Networks } from '../../src/network/networks.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-net-'));
const root = join(dir, 'root');
const netns = new NetnsStore(join(dir, 'netns'));
const state = join(dir, 'state');
const networks = new Networks({ root, state, extraConfDirs: [] });
const bridges: string[] = [];
const skiff = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));

const inNs = (ns: string, ...cmd: string[]) => spawnSync('nsenter', [`--net=${netns.path(ns)}`, ...cmd], { encoding: 'utf8' });
const veths = (bridge: string) => execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
const ipamFiles = (net: string) => existsSync(join(state, 'cni/ipam', net)) ? readdirSync(join(state, 'cni/ipam', net)).filter((f) => /^\d/.test(f)) : [];
/**
 * The nat rules CNI made for this test's containers: the bridge and portmap plugins tag each with
 * `id: "CONTAINERID"`, and other tests' containers on the host must not count.
 */
const natRules = (idPattern: string) => {
  const tagged = new RegExp(`id: \\\\"${idPattern}\\\\"`);
  return execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).split('\n').filter((l) => tagged.test(l)).length;
};

async function network(n: number) {
  const name = `sktest${n}`;
  bridges.push(name);
  return networks.create({ name, driver: 'bridge', subnet: `10.213.${n}.0/24`, device: name });
}

before(() => {
  const used = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
  assert.ok(!used.includes('10.213.'), 'the test subnets 10.213.0.0/16 must be free on this host');
});

after(async () => {
  for (const ns of await netns.list()) await netns.remove(ns).catch(() => {});
  // network rm takes the masquerade rule with the bridge; `ip link del` is for a network a failed test left attached.
  for (const b of bridges) await networks.remove(b).catch(() => spawnSync('ip', ['link', 'del', b]));
  spawnSync('ip', ['link', 'del', 'sktdummy7']);
  spawnSync('ip', ['link', 'del', 'sktout9']);
  rmSync(dir, { recursive: true, force: true });
});

describe('CNI networking', () => {
  test('two namespaces on one bridge reach each other', async () => {
    await network(1);
    for (const ns of ['a1', 'b1']) await netns.create(ns);
    const ra = await networks.attach('sktest1', { containerId: 'a1', netns: netns.path('a1'), ifName: 'eth0' });
    const rb = await networks.attach('sktest1', { containerId: 'b1', netns: netns.path('b1'), ifName: 'eth0' });
    const ipB = rb.ips![0].address.split('/')[0];
    assert.equal(ra.ips![0].gateway, '10.213.1.1');
    const ping = inNs('a1', 'busybox', 'ping', '-c', '1', '-W', '2', ipB);
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    assert.match(inNs('a1', 'ip', '-o', 'link', 'show', 'lo').stdout, /UP/, 'loopback is up');
    assert.deepEqual((await networks.client.cache.list({ containerId: 'a1' })).map((c) => c.ifName), ['eth0'], 'no plugin ran for lo');
    // An attachment made by an earlier version also cached a loopback plugin's ADD: the network's DEL takes it along.
    const legacyLoopback = { cniVersion: '1.0.0', name: 'skiff-loopback', plugins: [{ type: 'loopback' }], file: '(built in)' };
    await networks.client.add(legacyLoopback, { containerId: 'b1', netns: netns.path('b1'), ifName: 'lo' });
    for (const ns of ['a1', 'b1']) await networks.detach('sktest1', { containerId: ns, netns: netns.path(ns), ifName: 'eth0' });
    assert.deepEqual(await networks.client.cache.list({ containerId: 'b1' }), [], 'the earlier loopback attachment went with the network');
    assert.equal(veths('sktest1'), 0, 'DEL removed the veths');
    assert.deepEqual(ipamFiles('sktest1'), [], 'DEL released the addresses');
    assert.equal(natRules('a1'), 0, 'DEL removed the masquerade rules');
  });

  test('a TCP server inside is reached through a mapped port on 127.0.0.1, and DEL removes the mapping', async () => {
    await network(2);
    await netns.create('web2');
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'hello.txt'), 'hello from the namespace\n');
    await networks.attach('sktest2', { containerId: 'web2', netns: netns.path('web2'), ifName: 'eth0', runtimeConfig: { portMappings: [{ hostPort: 18082, containerPort: 8080, protocol: 'tcp' }] } });
    const httpd = spawn('nsenter', [`--net=${netns.path('web2')}`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' });
    try {
      let body = '';
      for (let i = 0; i < 50 && !body; i++) {
        body = await new Promise<string>((resolve) => {
          get('http://127.0.0.1:18082/hello.txt', (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b)); })
            .on('error', () => setTimeout(() => resolve(''), 100));
        });
      }
      assert.equal(body, 'hello from the namespace\n');
      // And from another namespace on the network, through the host's address on the bridge.
      await netns.create('cli2');
      await networks.attach('sktest2', { containerId: 'cli2', netns: netns.path('cli2'), ifName: 'eth0' });
      // (busybox-static's wget crashes here, so a raw HTTP/1.0 request through nc.)
      const nc = spawnSync('nsenter', [`--net=${netns.path('cli2')}`, 'busybox', 'nc', '-w', '5', '10.213.2.1', '18082'],
        { input: 'GET /hello.txt HTTP/1.0\r\n\r\n', encoding: 'utf8' });
      assert.match(nc.stdout, /\r\n\r\nhello from the namespace\n$/, nc.stderr);
      await networks.detach('sktest2', { containerId: 'cli2', netns: netns.path('cli2'), ifName: 'eth0' });
    } finally {
      httpd.kill();
    }
    await networks.detach('sktest2', { containerId: 'web2', netns: netns.path('web2'), ifName: 'eth0' });
    assert.equal(natRules('web2'), 0, 'the port mapping rules are gone');
  });

  test('200 ADD/DEL cycles leave no veth, address, rule or mount', async () => {
    await network(3);
    await netns.create('cyc3');
    for (let i = 0; i < 200; i++) {
      await networks.client.add(await networks.get('sktest3'), { containerId: `cyc${i}`, netns: netns.path('cyc3'), ifName: 'eth0' });
      await networks.client.del(await networks.get('sktest3'), { containerId: `cyc${i}`, netns: netns.path('cyc3'), ifName: 'eth0' });
    }
    assert.equal(veths('sktest3'), 0);
    assert.deepEqual(ipamFiles('sktest3'), []);
    assert.equal(natRules('cyc\\d+'), 0);
    await netns.remove('cyc3');
    assert.ok(!execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).includes(netns.path('cyc3')), 'the pin is unmounted');
  });

  test('an ADD failing in the second plugin rolls back the first', async () => {
    bridges.push('sktest4');
    const confDir = join(root, 'cni', 'net.d');
    writeFileSync(join(confDir, 'sktest4.conflist'), JSON.stringify({
      cniVersion: '1.0.0', name: 'sktest4', plugins: [
        { type: 'bridge', bridge: 'sktest4', isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.213.4.0/24' }]], dataDir: join(state, 'cni/ipam') } },
        { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.no_such_setting': '1' } },
      ],
    }));
    await netns.create('fail4');
    await assert.rejects(networks.attach('sktest4', { containerId: 'fail4', netns: netns.path('fail4'), ifName: 'eth0' }), /^SkiffError: network sktest4 \(.*sktest4\.conflist\): plugins\[1\] \(tuning\) ADD failed: .*no_such_setting/);
    assert.equal(veths('sktest4'), 0, 'the bridge plugin\'s veth was removed');
    assert.deepEqual(ipamFiles('sktest4'), [], 'its address was released');
  });

  test('a DEL from a new process works from the cached result', async () => {
    await network(5);
    await netns.create('cache5');
    // Pod arguments too: the real plugins accept K8S_POD_* only with IgnoreUnknown=1, which the client puts first.
    const args = { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'cache5', K8S_POD_INFRA_CONTAINER_ID: 'cache5' };
    await networks.attach('sktest5', { containerId: 'cache5', netns: netns.path('cache5'), ifName: 'eth0', args });
    const cached = JSON.parse(readFileSync(join(root, 'cni/cache/results/sktest5/cache5@eth0'), 'utf8'));
    assert.equal(cached.kind, 'cniCacheV1');
    assert.deepEqual(cached.cniArgs, [['IgnoreUnknown', '1'], ...Object.entries(args)]);
    const r = spawnSync(process.execPath, [skiff, '--root', root, '--state', dir, 'network', 'detach', '--network', 'sktest5', 'cache5'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(veths('sktest5'), 0);
    assert.ok(!existsSync(join(root, 'cni/cache/results/sktest5/cache5@eth0')));
    // DEL again, and with the namespace gone: still fine.
    await netns.remove('cache5');
    await networks.detach('sktest5', { containerId: 'cache5', netns: netns.path('cache5'), ifName: 'eth0' });
  });

  test('a missing plugin or bad JSON gets one error naming the file and field', async () => {
    const confDir = join(dir, 'bad');
    mkdirSync(confDir);
    const a = join(confDir, 'a.conflist'), b = join(confDir, 'b.conflist');
    writeFileSync(a, '{"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "bridge"}, {"type": "no-such-plugin"}]}');
    const bad = new Networks({ root: join(dir, 'badroot'), state: join(dir, 'badstate'), extraConfDirs: [confDir] });
    await netns.create('bad6');
    await assert.rejects(bad.attach('x', { containerId: 'bad6', netns: netns.path('bad6'), ifName: 'eth0' }),
      { message: `${a}: plugins[1].type: CNI plugin "no-such-plugin" not found in /usr/lib/cni:/opt/cni/bin` });
    assert.deepEqual(await bad.client.cache.list(), [], 'nothing cached of the failed ADD');
    writeFileSync(b, '{"cniVersion": "1.0.0", "name": ');
    await assert.rejects(bad.get('y'), new RegExp(`^SkiffError: network "y": not found; ${b}: invalid JSON`));
    assert.equal((await bad.list()).broken.length, 1);
    writeFileSync(b, '{"cniVersion": "9.9.9", "name": "y", "plugins": []}');
    await assert.rejects(bad.get('y'), /b\.conflist: cniVersion: "9\.9\.9" is not one of .*; plugins: must list at least one plugin$/);
    const cli = spawnSync(process.execPath, [skiff, '--root', root, 'network', 'create', 'z', '--subnet', '10.213.300.0/24'], { encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.equal(cli.stderr.trimEnd().split('\n').length, 1, cli.stderr);
    assert.match(cli.stderr, /--subnet: "10\.213\.300\.0\/24" is not an IPv4 subnet/);
  });

  test('a macvlan network over a veth parent: two namespaces reach each other; one namespace on two networks', async () => {
    // A veth pair as the parent (this kernel has no dummy driver): nothing it carries leaves the host.
    execFileSync('ip', ['link', 'add', 'sktdummy7', 'type', 'veth', 'peer', 'name', 'sktdummy7p']);
    for (const l of ['sktdummy7', 'sktdummy7p']) execFileSync('ip', ['link', 'set', l, 'up']);
    await networks.create({ name: 'sktest7', driver: 'macvlan', subnet: '10.213.7.0/24', device: 'sktdummy7' });
    await network(8);
    for (const ns of ['mva', 'mvb']) await netns.create(ns);
    const at = (ns: string, ifName = 'eth0') => ({ containerId: ns, netns: netns.path(ns), ifName });
    await networks.attach('sktest7', at('mva'));
    const rb = await networks.attach('sktest7', at('mvb'));
    const ping = inNs('mva', 'busybox', 'ping', '-c', '1', '-W', '2', rb.ips![0].address.split('/')[0]);
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    // mva joins the bridge network too, as eth1; leaving one network keeps the other and lo.
    const r8 = await networks.attach('sktest8', at('mva', 'eth1'));
    assert.match(r8.ips![0].address, /^10\.213\.8\./);
    await networks.detach('sktest7', at('mva'));
    assert.match(inNs('mva', 'ip', '-o', 'link').stdout, /lo: <LOOPBACK,UP.*eth1@/s);
    assert.doesNotMatch(inNs('mva', 'ip', '-o', 'link').stdout, /eth0@/);
    await networks.detach('sktest8', at('mva', 'eth1'));
    await networks.detach('sktest7', at('mvb'));
    assert.deepEqual(await networks.client.cache.list(), [], 'no attachment left in the cache');
    assert.deepEqual(ipamFiles('sktest7'), []);
  });

  test('a network skiff creates is masqueraded by one rule for its subnet: made at its first attach, again after a flush, gone with network rm', async () => {
    await network(9);
    const chain = masqueradeChain('sktest9');
    const rules = () => execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(chain));
    const jump = `-A POSTROUTING -s 10.213.9.0/24 -m comment --comment "skiff network sktest9" -j ${chain}`;
    assert.deepEqual(rules(), [], 'nothing before an attach');
    // Outside: a namespace on a veth to the host that knows no route to 10.213.9.0/24, so only a masqueraded ping
    // gets its answer back.
    await netns.create('out9');
    execFileSync('ip', ['link', 'add', 'sktout9', 'type', 'veth', 'peer', 'name', 'sktout9p']);
    execFileSync('ip', ['link', 'set', 'sktout9p', 'netns', netns.path('out9')]);
    execFileSync('ip', ['addr', 'add', '10.213.99.1/24', 'dev', 'sktout9']);
    execFileSync('ip', ['link', 'set', 'sktout9', 'up']);
    for (const cmd of [['ip', 'addr', 'add', '10.213.99.2/24', 'dev', 'sktout9p'], ['ip', 'link', 'set', 'sktout9p', 'up']]) assert.equal(inNs('out9', ...cmd).status, 0);
    await netns.create('m9');
    const attach = () => networks.attach('sktest9', { containerId: 'm9', netns: netns.path('m9'), ifName: 'eth0' });
    const detach = () => networks.detach('sktest9', { containerId: 'm9', netns: netns.path('m9'), ifName: 'eth0' });
    await attach();
    assert.deepEqual(rules(), [`:${chain} - [0:0]`, jump, `-A ${chain} -d 10.213.9.0/24 -j RETURN`, `-A ${chain} -d 224.0.0.0/4 -j RETURN`, `-A ${chain} -j MASQUERADE`]);
    assert.equal(natRules('m9'), 0, 'no rules of the container\'s own');
    const ping = inNs('m9', 'busybox', 'ping', '-c', '1', '-W', '2', '10.213.99.2');
    assert.equal(ping.status, 0, `masqueraded: ${ping.stdout}${ping.stderr}`);
    await detach();
    assert.equal(rules().length, 5, 'the rule is the network\'s: it stays after the last DEL');
    // A flush of the nat table by hand (firewall reload): the next attach puts the rules back, once.
    execFileSync('iptables', ['-w', '-t', 'nat', '-D', ...jump.slice(3).match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/"/g, ''))]);
    execFileSync('iptables', ['-w', '-t', 'nat', '-F', chain]);
    await attach();
    assert.equal(rules().filter((l) => l === jump).length, 1);
    assert.equal(inNs('m9', 'busybox', 'ping', '-c', '1', '-W', '2', '10.213.99.2').status, 0);
    await detach();
    await networks.remove('sktest9');
    bridges.splice(bridges.indexOf('sktest9'), 1);
    assert.deepEqual(rules(), [], 'network rm removed the chain and its jump');
  });
});
