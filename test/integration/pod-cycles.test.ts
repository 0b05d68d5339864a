// Pod create / start / stop / rm cycles with two containers each (and a published port) leave nothing behind: no
// mount, cgroup, veth, address, iptables rule of the pods, pause or monitor process, namespace pin or state file.
// The first cycles run through the CLI as a user would, the rest through the pod layer in this process, as skiffd
// runs them. SKIFF_POD_CYCLES sets the number (default 100).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultContainerConfig } from '../../src/engine/container-config.js';
import { Engine } from '../../src/engine/engine.js';
import { Pods } from '../../src/pod/pods.js';
import { hostSnapshot, skiffStore } from '../helpers/skiff-cli.js';

const store = skiffStore('skiff-pod-cycles-');
after(() => store.cleanup());

const CYCLES = Number(process.env.SKIFF_POD_CYCLES ?? 100);
const VIA_CLI = Math.min(10, CYCLES);
const listed = (p: string) => (existsSync(p) ? readdirSync(p) : []);
const ipamFiles = () => listed(join(store.state, 'cni', 'ipam', 'skiff0')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
const paused = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(store.dir);
  } catch {
    return false;
  }
});

test(`${CYCLES} pod create/start/stop/rm cycles with two containers leave nothing behind`, { timeout: 60 * 60_000 }, async () => {
  assert.equal(store.run('image', 'inspect', 'localhost/busybox').code, 0);
  const before = hostSnapshot(store);
  const ids: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < VIA_CLI; i++) {
    const step = (...args: string[]) => {
      const r = store.run(...args);
      assert.equal(r.code, 0, `cycle ${i}: ${args.join(' ')}: ${r.err}`);
      return r.out.trim();
    };
    const id = step('pod', 'create', '-p', '127.0.0.1::8080');
    ids.push(id);
    step('create', '--pod', id, 'localhost/busybox', 'sleep', '60');
    step('create', '--pod', id, 'localhost/busybox', 'sleep', '60');
    step('pod', 'start', id);
    step('pod', 'stop', '-t', '0', id);
    step('pod', 'rm', id);
  }
  const cliMs = (performance.now() - t0) / Math.max(1, VIA_CLI);
  const pods = new Pods(new Engine({ root: store.root, state: store.state }));
  const config = { ...defaultContainerConfig(), command: ['sleep', '60'] };
  const t1 = performance.now();
  for (let i = VIA_CLI; i < CYCLES; i++) {
    const pod = await pods.create({ network: 'bridge', publish: [{ hostIP: '127.0.0.1', hostPort: 0, containerPort: 8080, protocol: 'tcp' }] });
    ids.push(pod.id);
    await pods.createContainer(pod.id, { image: 'localhost/busybox', config });
    await pods.createContainer(pod.id, { image: 'localhost/busybox', config });
    await pods.start(pod.id);
    await pods.stop(pod.id, 0);
    await pods.remove(pod.id);
  }
  const inProcessMs = (performance.now() - t1) / Math.max(1, CYCLES - VIA_CLI);
  process.stdout.write(`# per cycle: ${cliMs.toFixed(0)} ms through the CLI, ${inProcessMs.toFixed(0)} ms in process\n`);
  const now = hostSnapshot(store);
  assert.deepEqual(now.mounts, []);
  assert.deepEqual(now.monitors, []);
  assert.deepEqual(paused(), [], 'no process of the store (pause) left');
  assert.deepEqual(now.cgroups.filter((c) => !before.cgroups.includes(c)), []);
  assert.deepEqual(now.veths.filter((v) => !before.veths.includes(v)), []);
  const rules = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n');
  assert.deepEqual(rules.filter((l) => ids.some((id) => l.includes(id))), [], 'no iptables rule of any pod');
  assert.deepEqual(ipamFiles(), [], 'every address given back');
  assert.equal(store.run('pod', 'ps', '-q').out, '');
  assert.equal(store.run('ps', '-aq').out, '');
  for (const d of ['pods/netns', 'pods/ns', 'pods/shm', 'runtime', 'exits', 'attach', 'netns']) assert.deepEqual(listed(join(store.state, d)), [], `state/${d}`);
  assert.deepEqual(listed(join(store.root, 'pods')), []);
  assert.deepEqual(listed(join(store.root, 'containers')), []);
  assert.deepEqual(listed(join(store.root, 'pod-names')), []);
});
