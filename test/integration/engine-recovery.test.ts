// What a SIGKILL at any moment, a killed monitor or a reboot leaves: nothing that the next command does not show
// truly (ps -a) or clean (rm, prune). Reboots are simulated: every process of the store killed, its mounts
// unmounted, its state directory (a tmpfs at boot) emptied.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostSnapshot, skiffStore, type HostSnapshot } from '../helpers/skiff-cli.js';

const store = skiffStore('skiff-recovery-');
const IMAGE = 'localhost/busybox';
let baseline: HostSnapshot;

before(() => {
  assert.equal(store.run('image', 'inspect', IMAGE).code, 0);
  baseline = hostSnapshot(store);
});
after(() => store.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inspect = (ref: string) => JSON.parse(store.run('inspect', '--type', 'container', ref).out)[0];
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

/** Every container ps -a lists agrees with reality: running ones have their process, others have none. */
function psIsTrue(): void {
  for (const id of store.run('ps', '-aq', '--no-trunc').out.split('\n').filter(Boolean)) {
    const i = inspect(id);
    if (i.State.Running) assert.ok(alive(i.State.Pid), `${id.slice(0, 12)} is shown running and its process ${i.State.Pid} is alive`);
    else assert.equal(i.State.Pid, 0);
  }
  const dirs = existsSync(join(store.root, 'containers')) ? readdirSync(join(store.root, 'containers')).filter((d) => /^[0-9a-f]{64}$/.test(d)) : [];
  const listed = new Set(store.run('ps', '-aq', '--no-trunc').out.split('\n').filter(Boolean));
  for (const d of dirs) assert.ok(listed.has(d), `directory ${d.slice(0, 12)} belongs to a listed container`);
}

function removeAllAndCheck(): void {
  const ids = store.run('ps', '-aq').out.split('\n').filter(Boolean);
  if (ids.length) assert.equal(store.run('rm', '-f', ...ids).code, 0);
  const now = hostSnapshot(store);
  assert.deepEqual(now.mounts, [], 'no mount');
  assert.deepEqual(now.netns, [], 'no netns pin');
  assert.deepEqual(now.monitors, [], 'no monitor');
  assert.deepEqual(now.cgroups.filter((c) => !baseline.cgroups.includes(c)), [], 'no cgroup');
  assert.deepEqual(now.veths.filter((v) => !baseline.veths.includes(v)), [], 'no veth');
  assert.deepEqual(now.iptables.filter((r) => !baseline.iptables.includes(r)), [], 'no iptables rule');
  for (const d of ['runtime', 'netns', 'exits']) {
    const p = join(store.state, d);
    assert.deepEqual(existsSync(p) ? readdirSync(p).filter((e) => /^[0-9a-f]{64}/.test(e)) : [], [], `nothing in state/${d}`);
  }
}

/**
 * What a reboot does to iptables: the container's rules and chains go (the nat table's per-container chains and
 * the rules that jump to them; the bridge plugin can only take them down itself while the namespace exists).
 */
function forgetRulesOf(id: string): void {
  const rules = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('-A ') && l.includes(id));
  const chains = new Set(rules.map((l) => / -j (CNI-[0-9a-f]+)$/.exec(l)?.[1]).filter((c): c is string => c !== undefined));
  for (const rule of rules) execFileSync('sh', ['-c', `iptables -w -t nat ${rule.replace(/^-A /, '-D ')}`]);
  for (const chain of chains) {
    execFileSync('iptables', ['-w', '-t', 'nat', '-F', chain]);
    execFileSync('iptables', ['-w', '-t', 'nat', '-X', chain]);
  }
}

describe('recovery', () => {
  test('SIGKILL of skiff run -d at many moments: ps -a tells the truth and rm cleans', async () => {
    for (const delay of [0, 30, 60, 100, 150, 200, 300, 450, 700]) {
      const run = store.start('run', '-d', '-p', '127.0.0.1::80', IMAGE, 'sleep', '30');
      await sleep(delay);
      try {
        process.kill(run.pid, 'SIGKILL');
      } catch {
        // It finished before the moment came: a moment like any other.
      }
      await run.done;
      psIsTrue();
    }
    removeAllAndCheck();
  });

  test('SIGKILL of a foreground skiff run --rm: the container runs on, then goes when it exits', async () => {
    const run = store.start('run', '--rm', '--name', 'orphaned', IMAGE, 'sh', '-c', 'sleep 1.5');
    for (let i = 0; i < 100 && !store.run('ps', '-q', '--filter', 'name=orphaned').out; i++) await sleep(50);
    process.kill(run.pid, 'SIGKILL');
    await run.done;
    assert.equal(inspect('orphaned').State.Status, 'running');
    for (let i = 0; i < 100 && store.run('ps', '-aq', '--filter', 'name=orphaned').out; i++) await sleep(100);
    assert.equal(store.run('ps', '-aq', '--filter', 'name=orphaned').out, '', 'removed by the exit command');
    removeAllAndCheck();
  });

  test('a killed monitor: the container is shown as it is, stops, and is removed cleanly', async () => {
    assert.equal(store.run('run', '-d', '--name', 'unwatched', IMAGE, 'sleep', '60').code, 0);
    const monitor = JSON.parse(readFileSync(join(store.root, 'containers', inspect('unwatched').Id, 'container.json'), 'utf8')).state.monitor.pid as number;
    process.kill(monitor, 'SIGKILL');
    await sleep(200);
    psIsTrue();
    assert.equal(store.run('stop', '-t', '0', 'unwatched').code, 0);
    const i = inspect('unwatched');
    assert.equal(i.State.Status, 'exited');
    assert.equal(i.State.ExitCode, 255, 'no monitor saw the exit');
    assert.match(i.State.Error, /exit status is unknown/);
    removeAllAndCheck();
  });

  test('a reboot: running containers are shown exited, start again, and rm cleans', async () => {
    assert.equal(store.run('run', '-d', '--name', 'survivor', '-p', '127.0.0.1::80', IMAGE, 'sleep', '60').code, 0);
    assert.equal(store.run('create', '--name', 'waiting', IMAGE, 'true').code, 0);
    const pid = inspect('survivor').State.Pid as number;
    // The machine goes down: every process of the store dies, mounts go, /run is empty again.
    const monitor = JSON.parse(readFileSync(join(store.root, 'containers', inspect('survivor').Id, 'container.json'), 'utf8')).state.monitor.pid as number;
    process.kill(monitor, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await sleep(200);
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(store.dir)).reverse()) {
      execFileSync('umount', ['-l', line.split(' ')[4].replace(/\\040/g, ' ')]);
    }
    rmSync(store.state, { recursive: true, force: true });
    forgetRulesOf(inspect('survivor').Id);
    psIsTrue();
    assert.equal(inspect('survivor').State.Status, 'exited');
    assert.equal(inspect('waiting').State.Status, 'created');
    assert.equal(store.run('start', 'survivor').code, 0);
    assert.equal(inspect('survivor').State.Status, 'running');
    assert.equal(store.run('exec', 'survivor', 'true').code, 0);
    removeAllAndCheck();
  });
});
