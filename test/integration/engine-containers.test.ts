// The engine through docker's container commands, as a user drives them: detached runs with published ports,
// logs, exec, stop and its signals, restart, volumes, restart policies, removal; nothing left behind.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { hostSnapshot, skiffStore, type HostSnapshot } from '../helpers/skiff-cli.js';

const store = skiffStore();
let baseline: HostSnapshot;
const IMAGE = 'localhost/busybox';

before(() => {
  // The default image is built on first use; build it before the baseline is taken.
  assert.equal(store.run('image', 'inspect', IMAGE).code, 0);
  baseline = hostSnapshot(store);
});
after(() => store.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function until<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const inspect = (ref: string) => JSON.parse(store.run('inspect', '--type', 'container', ref).out)[0];

function assertNothingLeft(): void {
  const now = hostSnapshot(store);
  assert.deepEqual(now.mounts, [], 'no mount of the store');
  assert.deepEqual(now.netns, [], 'no pinned network namespace');
  assert.deepEqual(now.monitors, [], 'no monitor process');
  assert.deepEqual(now.cgroups.filter((c) => !baseline.cgroups.includes(c)), [], 'no cgroup');
  assert.deepEqual(now.veths.filter((v) => !baseline.veths.includes(v)), [], 'no veth');
  assert.deepEqual(now.iptables.filter((r) => !baseline.iptables.includes(r)), [], 'no iptables rule');
}

describe('containers through the engine', () => {
  test('run -d with a published port answers from the host; ps, port, inspect; rm -f leaves nothing', async () => {
    const port = await freePort();
    const r = store.run('run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, IMAGE,
      'sh', '-c', 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www');
    assert.equal(r.code, 0, r.err);
    const id = r.out.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const body = await (async () => {
      for (let i = 0; i < 50; i++) {
        try {
          return await httpGet(`http://127.0.0.1:${port}/`);
        } catch {
          await sleep(100);
        }
      }
      throw new Error('httpd never answered');
    })();
    assert.equal(body, 'hello-from-web\n');
    const ps = store.run('ps').out.split('\n');
    assert.match(ps[0], /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
    assert.match(ps[1], new RegExp(`^${id.slice(0, 12)} +${IMAGE} +"sh -c mkdir -p /www…" +.* ago +Up .* +127\\.0\\.0\\.1:${port}->80/tcp +web$`));
    assert.equal(store.run('port', 'web').out, `80/tcp -> 127.0.0.1:${port}\n`);
    const info = inspect('web');
    assert.equal(info.Id, id);
    assert.equal(info.Name, '/web');
    assert.equal(info.State.Status, 'running');
    assert.ok(info.State.Pid > 0);
    assert.deepEqual(info.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    assert.match(info.NetworkSettings.IPAddress, /^10\.89\./);
    assert.equal(store.run('rm', 'web').code, 1, 'a running container needs -f');
    assert.match(store.run('rm', 'web').err, /container is running: stop the container before removing or force remove/);
    assert.deepEqual(store.run('rm', '-f', 'web'), { code: 0, out: 'web\n', err: '' });
    assert.equal(store.run('ps', '-a', '-q').out, '');
    assertNothingLeft();
  });

  test('logs -f follows new lines and ends when the container exits; --tail, -t, stderr apart', async () => {
    const r = store.run('run', '-d', '--name', 'talker', IMAGE, 'sh', '-c', 'echo one; echo two >&2; sleep 1; echo three; sleep 1; echo four');
    assert.equal(r.code, 0, r.err);
    const follow = store.start('logs', '-f', 'talker');
    const done = await follow.done;
    assert.equal(done.code, 0, done.err);
    assert.equal(done.out, 'one\nthree\nfour\n');
    assert.equal(done.err, 'two\n');
    assert.equal(store.run('logs', '--tail', '1', 'talker').out, 'four\n');
    assert.match(store.run('logs', '-t', '--tail', '2', 'talker').out, /^\d{4}-\d\d-\d\dT[\d:.]+Z three\n\S+ four\n$/);
    assert.equal(store.run('wait', 'talker').out, '0\n');
    assert.match(store.run('ps', '-a').out, /Exited \(0\) .* ago +talker/);
    store.run('rm', 'talker');
  });

  test('exec runs in the container with its environment, user and directory; its status comes back', () => {
    assert.equal(store.run('run', '-d', '--name', 'box', '-e', 'GREETING=hi', '-w', '/tmp', IMAGE, 'sleep', '60').code, 0);
    const r = store.run('exec', 'box', 'sh', '-c', 'echo $GREETING $(pwd) $(id -u); exit 5');
    assert.deepEqual([r.code, r.out], [5, 'hi /tmp 0\n']);
    assert.equal(store.run('exec', '-u', 'nobody', '-w', '/', '-e', 'X=1', 'box', 'sh', '-c', 'echo $X $(pwd) $(id -un)').out, '1 / nobody\n');
    const missing = store.run('exec', 'box', 'nosuch');
    assert.deepEqual([missing.code, missing.err], [127, 'skiff: exec "nosuch": executable file not found in $PATH\n']);
    assert.equal(store.run('exec', 'nobox', 'true').err, 'skiff: No such container: nobox\n');
    store.run('rm', '-f', 'box');
  });

  test('stop sends the stop signal, and SIGKILLs after the timeout', async () => {
    // A shell as PID 1 has no default action for SIGTERM (pid_namespaces(7)): only a trap ends it.
    assert.equal(store.run('run', '-d', '--name', 'polite', '--stop-signal', 'SIGUSR1', IMAGE, 'sh', '-c', 'trap "echo got-usr1; exit 0" USR1; while :; do sleep 0.1; done').code, 0);
    await sleep(300);
    assert.equal(store.run('stop', 'polite').code, 0);
    assert.equal(store.run('logs', 'polite').out, 'got-usr1\n');
    assert.equal(inspect('polite').State.ExitCode, 0);
    assert.equal(store.run('run', '-d', '--name', 'stubborn', IMAGE, 'sleep', '60').code, 0);
    const t0 = Date.now();
    assert.equal(store.run('stop', '-t', '1', 'stubborn').code, 0);
    assert.ok(Date.now() - t0 >= 1000, 'waited the timeout before SIGKILL');
    assert.equal(inspect('stubborn').State.ExitCode, 137);
    assert.equal(store.run('stop', 'stubborn').code, 0, 'stopping a stopped container is fine');
    assert.equal(store.run('kill', 'stubborn').err, `skiff: Cannot kill container: stubborn: Container ${inspect('stubborn').Id} is not running\n`);
    store.run('rm', 'polite', 'stubborn');
  });

  test('a stop signal that came before the program set its handler is sent again once it has, not twice', async () => {
    // The trap is set a second after the start: a SIGTERM before it reaches a PID 1 without a handler, and the
    // kernel drops it (pid_namespaces(7)). Sent again once the handler is there, it ends the container long before
    // the timeout, and the trap runs once.
    assert.equal(store.run('run', '-d', '--name', 'late', IMAGE, 'sh', '-c', 'sleep 1; trap "echo got-term; exit 3" TERM; while :; do sleep 0.1; done').code, 0);
    const t0 = Date.now();
    assert.equal(store.run('stop', '-t', '30', 'late').code, 0);
    assert.ok(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms`);
    assert.equal(inspect('late').State.ExitCode, 3);
    assert.equal(store.run('logs', 'late').out, 'got-term\n');
    store.run('rm', 'late');
  });

  test('restart keeps the container: its ID, name and what it wrote', () => {
    const id = store.run('run', '-d', '--name', 'keeper', IMAGE, 'sh', '-c', 'date +%s%N >> /stamps; sleep 60').out.trim();
    assert.equal(store.run('restart', '-t', '0', 'keeper').code, 0);
    assert.equal(inspect('keeper').Id, id);
    assert.equal(inspect('keeper').State.Status, 'running');
    const lines = store.run('exec', 'keeper', 'cat', '/stamps').out.trim().split('\n');
    assert.equal(lines.length, 2, 'the first run\'s file is still there');
    store.run('stop', '-t', '0', 'keeper');
    assert.equal(store.run('start', 'keeper').out, 'keeper\n');
    assert.equal(store.run('exec', 'keeper', 'cat', '/stamps').out.trim().split('\n').length, 3);
    store.run('rm', '-f', 'keeper');
  });

  test('volumes keep data across containers; rm -v takes anonymous volumes, not named ones', () => {
    assert.equal(store.run('run', '--rm', '-v', 'shared-data:/data', IMAGE, 'sh', '-c', 'echo kept > /data/file').code, 0);
    assert.equal(store.run('run', '--rm', '-v', 'shared-data:/data:ro', IMAGE, 'cat', '/data/file').out, 'kept\n');
    const ro = store.run('run', '--rm', '-v', 'shared-data:/data:ro', IMAGE, 'sh', '-c', 'echo x > /data/other');
    assert.notEqual(ro.code, 0, 'a read-only volume cannot be written');
    assert.equal(store.run('run', '--name', 'anon', '-v', '/scratch', IMAGE, 'touch', '/scratch/x').code, 0);
    const anon = inspect('anon').Mounts.find((m: { Destination: string }) => m.Destination === '/scratch').Name;
    assert.match(store.run('volume', 'ls', '-q').out, new RegExp(anon));
    assert.equal(store.run('rm', '-v', 'anon').code, 0);
    assert.doesNotMatch(store.run('volume', 'ls', '-q').out, new RegExp(anon));
    assert.match(store.run('volume', 'ls', '-q').out, /shared-data/);
    assert.equal(store.run('volume', 'rm', 'shared-data').code, 0);
  });

  test('--restart on-failure:3 restarts a failing container three times, then leaves it exited', async () => {
    assert.equal(store.run('run', '-d', '--name', 'flaky', '--restart', 'on-failure:3', IMAGE, 'sh', '-c', 'echo run; exit 3').code, 0);
    await until('three restarts', () => {
      const i = inspect('flaky');
      return i.RestartCount === 3 && i.State.Status === 'exited' ? i : undefined;
    }, 20_000);
    await sleep(1000);
    const i = inspect('flaky');
    assert.deepEqual([i.RestartCount, i.State.Status, i.State.ExitCode], [3, 'exited', 3]);
    assert.equal(store.run('logs', 'flaky').out, 'run\nrun\nrun\nrun\n');
    store.run('rm', 'flaky');
  });

  test('--rm with -d: the container goes when it exits, with no skiff process left', async () => {
    const id = store.run('run', '-d', '--rm', IMAGE, 'true').out.trim();
    await until('removal', () => (store.run('ps', '-aq', '--no-trunc').out.includes(id) ? undefined : true));
    assertNothingLeft();
  });

  test('containers on one user network reach each other by name; a stopped one leaves the others\' /etc/hosts', () => {
    const net = `usernet-${process.pid}`;
    const third = 10 + (process.pid % 200);
    assert.equal(store.run('network', 'create', '--subnet', `10.${third}.7.0/24`, net).code, 0);
    assert.equal(store.run('run', '-d', '--name', 'alpha', '--network', net, IMAGE, 'sleep', '60').code, 0);
    assert.equal(store.run('run', '-d', '--name', 'beta', '--network', net, IMAGE, 'sleep', '60').code, 0);
    const ping = store.run('exec', 'alpha', 'ping', '-c', '1', '-W', '2', 'beta');
    assert.equal(ping.code, 0, ping.out + ping.err);
    assert.match(store.run('exec', 'beta', 'cat', '/etc/hosts').out, /^10\.\S+\talpha [0-9a-f]{12}$/m);
    assert.equal(store.run('stop', '-t', '0', 'beta').code, 0);
    assert.doesNotMatch(store.run('exec', 'alpha', 'cat', '/etc/hosts').out, /beta/);
    assert.equal(store.run('rm', '-f', 'alpha', 'beta').code, 0);
    assert.equal(store.run('network', 'rm', net).code, 0);
  });

  test('bad input: one error line naming the flag, exit 125, nothing left', () => {
    const before = store.run('ps', '-aq').out;
    const cases: [string[], RegExp][] = [
      [['-p', '99999:80'], /^skiff: -p 99999:80: expected/],
      [['--memory', 'lots'], /^skiff: --memory: invalid size "lots"/],
      [['--restart', 'sometimes'], /^skiff: --restart sometimes: expected no, on-failure/],
      [['--rm', '--restart', 'always'], /--restart: conflicts with --rm/],
      [['--network', 'no-such-net'], /--network: .*no-such-net/],
      [['--cap-add', 'CAP_FLYING'], /--cap-add: unknown capability "CAP_FLYING"/],
      [['--mount', 'type=bind,source=/no/such/dir,target=/x'], /bind source path does not exist: \/no\/such\/dir/],
      [['--security-opt', 'apparmor=x'], /this host has no AppArmor/],
    ];
    for (const [flags, message] of cases) {
      const r = store.run('run', ...flags, IMAGE, 'true');
      assert.equal(r.code, 125, `${flags.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(r.err.split('\n').length, 2, 'one line');
    }
    assert.equal(store.run('run', '--name', 'dup', IMAGE, 'true').code, 0);
    assert.match(store.run('run', '--name', 'dup', IMAGE, 'true').err, /The container name "\/dup" is already in use/);
    store.run('rm', 'dup');
    assert.equal(store.run('ps', '-aq').out, before, 'no container made by a refused run');
  });
});
