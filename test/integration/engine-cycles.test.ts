// 200 `run -d` / `rm -f` cycles on the default bridge with a published port leave nothing behind: no mount,
// cgroup, veth, address, iptables rule, monitor process, netns pin or state file. The last 50 run through the
// engine in this process, as skiffd runs them, and leave it no more file descriptors than before.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultContainerConfig } from '../../src/engine/container-config.js';
import { Engine } from '../../src/engine/engine.js';
import { hostSnapshot, skiffStore } from '../helpers/skiff-cli.js';

const store = skiffStore('skiff-cycles-');
after(() => store.cleanup());

const CYCLES = 200;
const ipamFiles = () => {
  const dir = join(store.state, 'cni', 'ipam', 'skiff0');
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
};
const openFds = () => readdirSync('/proc/self/fd').length;
const IN_PROCESS = 50;

test(`${CYCLES} run -d / rm -f cycles leave nothing behind`, { timeout: 30 * 60_000 }, async () => {
  assert.equal(store.run('image', 'inspect', 'localhost/busybox').code, 0);
  const before = hostSnapshot(store);
  for (let i = 0; i < CYCLES - IN_PROCESS; i++) {
    const r = store.run('run', '-d', '-p', '127.0.0.1::8080', 'localhost/busybox', 'sleep', '60');
    assert.equal(r.code, 0, `cycle ${i}: ${r.err}`);
    const rm = store.run('rm', '-f', r.out.trim());
    assert.equal(rm.code, 0, `cycle ${i}: ${rm.err}`);
  }
  const engine = new Engine({ root: store.root, state: store.state });
  const config = { ...defaultContainerConfig(), command: ['sleep', '60'], publish: [{ hostIP: '127.0.0.1', hostPort: 0, containerPort: 8080, protocol: 'tcp' as const }] };
  const cycle = async () => {
    const rec = await engine.create({ image: 'localhost/busybox', config });
    await engine.start(rec.id);
    await engine.remove(rec.id, { force: true });
  };
  await cycle(); // the first one opens what stays open for the process's life (CNI config reads, lazily made objects)
  const fds = openFds();
  for (let i = 1; i < IN_PROCESS; i++) await cycle();
  assert.equal(openFds(), fds, 'the engine keeps no descriptor per container');
  const now = hostSnapshot(store);
  assert.deepEqual(now.mounts, []);
  assert.deepEqual(now.netns, []);
  assert.deepEqual(now.monitors, []);
  assert.deepEqual(now.cgroups.filter((c) => !before.cgroups.includes(c)), []);
  assert.deepEqual(now.veths.filter((v) => !before.veths.includes(v)), []);
  assert.deepEqual(now.iptables.filter((l) => !before.iptables.includes(l)), []);
  assert.deepEqual(ipamFiles(), [], 'every address given back to host-local');
  assert.equal(store.run('ps', '-aq').out, '');
  for (const d of ['runtime', 'exits', 'attach']) {
    const p = join(store.state, d);
    assert.deepEqual(existsSync(p) ? readdirSync(p) : [], [], `state/${d} is empty`);
  }
  assert.deepEqual(readdirSync(join(store.root, 'containers')), []);
});
