// skiffd's container calls on the real engine (in this process, through gRPC and crictl), in sandboxes of a
// stand-in pod layer (test/helpers/host-sandboxes.ts, on the node's network) that records what RunPodSandbox asked
// for and lets a test hand a pod a namespace of its own (cri-pods.test.ts runs the real pod layer): create with
// the security context, resources, mounts and log path the kubelet sends; start, exec (ExecSync and crictl's
// streaming exec), logs in the CRI format and their reopening, stats, events, stop with reasons, removal.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { validateConfig } from '../../src/cri/config.js';
import { startSkiffd, type RunningSkiffd } from '../../src/cri/daemon.js';
import { createLogger } from '../../src/cri/log.js';
import type { ContainerConfig } from '../../src/cri/proto/generated/runtime/v1/ContainerConfig.js';
import type { ContainerEventResponse__Output } from '../../src/cri/proto/generated/runtime/v1/ContainerEventResponse.js';
import type { PodSandboxConfig } from '../../src/cri/proto/generated/runtime/v1/PodSandboxConfig.js';
import { buildDefaultImage, DEFAULT_IMAGE } from '../../src/image/default-image.js';
import { criClient, type CriClient } from '../helpers/cri-client.js';
import { crictlAsync } from '../helpers/crictl.js';
import { freePort } from '../helpers/registry.js';
import { HostSandboxes } from '../helpers/host-sandboxes.js';
import { Engine } from '../../src/engine/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'skiffd-containers-'));
const socket = join(dir, 'skiffd.sock');
const logDir = join(dir, 'pod-logs');
let skiffd: RunningSkiffd;
let cri: CriClient;
let sandboxes: HostSandboxes | undefined;
const events: ContainerEventResponse__Output[] = [];
let eventStream: NodeJS.EventEmitter & { cancel(): void };

const errorOf = async (p: Promise<unknown>) => p.then(() => assert.fail('expected an error'), (e: ServiceError) => e);
const crictl = (args: string[], input?: string) => crictlAsync(socket, args, input).done;

const podConfig = (name: string): PodSandboxConfig => ({
  metadata: { name, uid: `uid-${name}`, namespace: 'test', attempt: 0 },
  log_directory: logDir,
  labels: { app: name },
  annotations: { note: 'kept' },
  linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
});

const containerConfig = (name: string, cmd: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
  metadata: { name, attempt: 0 },
  image: { image: DEFAULT_IMAGE },
  command: ['sh', '-c'],
  args: cmd,
  log_path: `${name}/0.log`,
  linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
  ...extra,
});

async function runPod(name: string): Promise<string> {
  return (await cri.runtime.RunPodSandbox({ config: podConfig(name) })).pod_sandbox_id!;
}

before(async () => {
  const config = validateConfig({ root: join(dir, 'root'), state: join(dir, 'state'), socket }, 'test');
  mkdirSync(config.root, { recursive: true });
  await buildDefaultImage(config.root);
  skiffd = await startSkiffd({
    config, log: createLogger('debug', openSync(join(dir, 'skiffd.log'), 'w')),
    sandboxes: (engine) => (sandboxes = new HostSandboxes(engine)),
  });
  cri = criClient(socket);
  eventStream = cri.rawRuntime.GetContainerEvents({}) as unknown as NodeJS.EventEmitter & { cancel(): void };
  eventStream.on('data', (e: ContainerEventResponse__Output) => events.push(e)).on('error', () => {});
});

after(async () => {
  eventStream?.cancel();
  for (const pod of (await cri?.runtime.ListPodSandbox({}).catch(() => ({ items: [] })))?.items ?? []) {
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id! }).catch(() => {});
  }
  cri?.close();
  await skiffd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('skiffd container calls', () => {
  test('RunPodSandbox keeps the CRI metadata; ListPodSandbox filters; our keys stay hidden', async () => {
    const id = await runPod('alpha');
    const req = sandboxes!.requests.at(-1)!;
    assert.equal(req.name, 'alpha_test_uid-alpha_0');
    assert.equal(req.network, 'host');
    assert.deepEqual(req.share, { net: true, pid: false, ipc: true, uts: false });
    const s = (await cri.runtime.PodSandboxStatus({ pod_sandbox_id: id })).status!;
    assert.equal(s.state, 'SANDBOX_READY');
    assert.deepEqual(s.metadata, { name: 'alpha', uid: 'uid-alpha', namespace: 'test', attempt: 0 });
    assert.deepEqual(s.annotations, { note: 'kept' });
    assert.equal(s.linux!.namespaces!.options!.network, 'NODE');
    assert.deepEqual((await cri.runtime.ListPodSandbox({ filter: { label_selector: { app: 'alpha' } } })).items!.map((p) => p.id), [id]);
    assert.deepEqual((await cri.runtime.ListPodSandbox({ filter: { label_selector: { app: 'other' } } })).items, []);
    assert.deepEqual((await cri.runtime.ListPodSandbox({ filter: { id: id.slice(0, 8), state: { state: 'SANDBOX_READY' } } })).items!.map((p) => p.id), [id]);
    const again = await errorOf(cri.runtime.RunPodSandbox({ config: { ...podConfig('x'), runtime_handler: 'runc' } as PodSandboxConfig, runtime_handler: 'runc' }));
    assert.equal(again.code, status.INVALID_ARGUMENT);
    assert.match(again.details, /config\.runtime_handler: no runtime for "runc" is configured \(none is; "" is skiff's own\)/);
  });

  test('a container: created, started, exec, logs in the CRI format, stats, stopped with its reason, removed', async () => {
    const pod = await runPod('beta');
    const created = await cri.runtime.CreateContainer({
      pod_sandbox_id: pod,
      sandbox_config: podConfig('beta'),
      config: containerConfig('web', ['echo hello; echo oops >&2; while :; do if [ -f /tmp/tick ]; then rm /tmp/tick; echo after-rotation; fi; sleep 0.1; done'], {
        envs: [{ key: 'GREETING', value: 'hi there' }],
        working_dir: '/tmp',
        labels: { tier: 'front' },
        annotations: { 'example.com/a': 'b' },
        linux: {
          resources: { memory_limit_in_bytes: String(64 * 1024 * 1024), cpu_period: '100000', cpu_quota: '50000', cpu_shares: '512', oom_score_adj: '-998' },
          security_context: {
            namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' },
            run_as_user: { value: '1000' }, run_as_group: { value: '1000' }, supplemental_groups: ['2000', '3000'],
            capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
            no_new_privs: true, seccomp: { profile_type: 'RuntimeDefault' },
          },
        },
      }),
    });
    const id = created.container_id!;
    let st = (await cri.runtime.ContainerStatus({ container_id: id })).status!;
    assert.equal(st.state, 'CONTAINER_CREATED');
    assert.equal(st.started_at, '0');
    assert.equal(st.log_path, join(logDir, 'web/0.log'));
    assert.deepEqual(st.labels, { tier: 'front' });
    assert.deepEqual(st.annotations, { 'example.com/a': 'b' });
    assert.equal(st.image!.image, DEFAULT_IMAGE);
    assert.match(st.image_ref!, /^sha256:[a-f0-9]{64}$/);

    await cri.runtime.StartContainer({ container_id: id });
    st = (await cri.runtime.ContainerStatus({ container_id: id })).status!;
    assert.equal(st.state, 'CONTAINER_RUNNING');
    assert.ok(BigInt(st.started_at!) >= BigInt(st.created_at!));
    const again = await errorOf(cri.runtime.StartContainer({ container_id: id }));
    assert.equal(again.code, status.INVALID_ARGUMENT);

    const idOut = await cri.runtime.ExecSync({ container_id: id, cmd: ['id'], timeout: '10' });
    assert.equal(idOut.exit_code, 0);
    assert.match(idOut.stdout!.toString(), /^uid=1000 gid=1000 groups=1000,2000,3000\n$/);
    const env = await cri.runtime.ExecSync({ container_id: id, cmd: ['sh', '-c', 'echo "$GREETING"; pwd; grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/1/status; cat /proc/1/oom_score_adj; exit 3'], timeout: '10' });
    assert.equal(env.exit_code, 3);
    const lines = env.stdout!.toString().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['hi there', '/tmp']);
    assert.match(lines[2], /^CapBnd:\s+0000000000000400$/);
    assert.match(lines[3], /^NoNewPrivs:\s+1$/);
    assert.match(lines[4], /^Seccomp:\s+2$/);
    assert.ok(Number(lines[5]) >= -998, `oom_score_adj ${lines[5]}`);
    const timedOut = await errorOf(cri.runtime.ExecSync({ container_id: id, cmd: ['sleep', '30'], timeout: '1' }));
    assert.equal(timedOut.code, status.DEADLINE_EXCEEDED);
    const left = await cri.runtime.ExecSync({ container_id: id, cmd: ['sh', '-c', 'ps | grep -c "[s]leep 30"'], timeout: '10' });
    assert.equal(left.stdout!.toString().trim(), '0', 'the timed-out command was killed');

    const viaCrictl = await crictl(['exec', id, 'sh', '-c', 'echo streamed; exit 4']);
    assert.equal(viaCrictl.out, 'streamed\n');
    assert.match(viaCrictl.err, /command terminated with exit code 4/);

    const log = join(logDir, 'web/0.log');
    const logText = readFileSync(log, 'utf8');
    assert.match(logText, /^\S+ stdout F hello$/m);
    assert.match(logText, /^\S+ stderr F oops$/m);
    renameSync(log, `${log}.1`);
    await cri.runtime.ReopenContainerLog({ container_id: id });
    assert.ok(existsSync(log), 'a new log file');
    const wrote = await cri.runtime.ExecSync({ container_id: id, cmd: ['touch', '/tmp/tick'], timeout: '10' });
    assert.equal(wrote.exit_code, 0, wrote.stderr!.toString());
    for (let i = 0; i < 20 && !readFileSync(log, 'utf8').includes('after-rotation'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(readFileSync(log, 'utf8'), /stdout F after-rotation/);

    const stats = (await cri.runtime.ContainerStats({ container_id: id })).stats!;
    assert.equal(stats.attributes!.id, id);
    assert.ok(Number(stats.memory!.working_set_bytes!.value) > 0);
    assert.ok(Number(stats.cpu!.usage_core_nano_seconds!.value) > 0);
    const listed = (await cri.runtime.ListContainerStats({ filter: { pod_sandbox_id: pod } })).stats!;
    assert.deepEqual(listed.map((s) => s.attributes!.id), [id]);
    const podStats = (await cri.runtime.PodSandboxStats({ pod_sandbox_id: pod })).stats!;
    assert.equal(podStats.linux!.containers!.length, 1);

    await cri.runtime.UpdateContainerResources({ container_id: id, linux: { memory_limit_in_bytes: String(96 * 1024 * 1024) } });
    const limit = await cri.runtime.ExecSync({ container_id: id, cmd: ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'], timeout: '10' });
    if (limit.exit_code === 0) assert.equal(limit.stdout!.toString().trim(), String(96 * 1024 * 1024));

    assert.deepEqual((await cri.runtime.ListContainers({ filter: { pod_sandbox_id: pod, state: { state: 'CONTAINER_RUNNING' } } })).containers!.map((c) => c.id), [id]);
    assert.deepEqual((await cri.runtime.ListContainers({ filter: { label_selector: { tier: 'back' } } })).containers, []);

    await cri.runtime.StopContainer({ container_id: id, timeout: '1' });
    st = (await cri.runtime.ContainerStatus({ container_id: id })).status!;
    assert.equal(st.state, 'CONTAINER_EXITED');
    assert.equal(st.reason, 'Error');
    assert.equal(st.exit_code, 137);
    assert.ok(BigInt(st.finished_at!) > BigInt(st.started_at!));
    await cri.runtime.StopContainer({ container_id: id, timeout: '1' });

    await cri.runtime.RemoveContainer({ container_id: id });
    await cri.runtime.RemoveContainer({ container_id: id });
    assert.equal((await errorOf(cri.runtime.ContainerStatus({ container_id: id }))).code, status.NOT_FOUND);
    const kinds = events.filter((e) => e.container_id === id).map((e) => e.container_event_type);
    for (const k of ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT']) assert.ok(kinds.includes(k as never), `${k} in ${kinds.join(',')}`);
  });

  test('a container that ends on its own: Completed, exit 0', async () => {
    const pod = await runPod('gamma');
    const id = (await cri.runtime.CreateContainer({ pod_sandbox_id: pod, sandbox_config: podConfig('gamma'), config: containerConfig('job', ['true']) })).container_id!;
    await cri.runtime.StartContainer({ container_id: id });
    let st;
    for (let i = 0; i < 50; i++) {
      st = (await cri.runtime.ContainerStatus({ container_id: id })).status!;
      if (st.state === 'CONTAINER_EXITED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(st!.state, 'CONTAINER_EXITED');
    assert.equal(st!.reason, 'Completed');
    assert.equal(st!.exit_code, 0);
  });

  test('fields skiffd cannot honour are refused, each named', async () => {
    const pod = await runPod('delta');
    const bad = await errorOf(cri.runtime.CreateContainer({
      pod_sandbox_id: pod, sandbox_config: podConfig('delta'),
      config: containerConfig('bad', ['true'], {
        working_dir: 'relative',
        linux: {
          resources: { unified: { 'memory.max': '1G' } },
          security_context: { privileged: true, capabilities: { add_capabilities: ['NOT_A_CAP'] }, namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
        },
      }),
    }));
    assert.equal(bad.code, status.INVALID_ARGUMENT);
    for (const field of ['config.working_dir', 'config.linux.resources.unified', 'config.linux.security_context.privileged', 'config.linux.security_context.capabilities.add_capabilities[0]']) {
      assert.ok(bad.details.includes(field), `${field} in ${bad.details}`);
    }
    assert.deepEqual((await cri.runtime.ListContainers({ filter: { pod_sandbox_id: pod } })).containers, [], 'nothing left behind');
    const missingImage = await errorOf(cri.runtime.CreateContainer({ pod_sandbox_id: pod, sandbox_config: podConfig('delta'), config: { ...containerConfig('x', ['true']), image: { image: 'example.com/none:1' } } }));
    assert.equal(missingImage.code, status.NOT_FOUND);
  });

  test('a Localhost seccomp profile and a read-only rootfs', async () => {
    const pod = await runPod('eps');
    const profile = join(dir, 'deny-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const id = (await cri.runtime.CreateContainer({
      pod_sandbox_id: pod, sandbox_config: podConfig('eps'),
      config: containerConfig('sec', ['exec sleep 1000'], {
        linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' }, readonly_rootfs: true, seccomp: { profile_type: 'Localhost', localhost_ref: profile } } },
      }),
    })).container_id!;
    await cri.runtime.StartContainer({ container_id: id });
    const r = await cri.runtime.ExecSync({ container_id: id, cmd: ['sh', '-c', 'mkdir /tmp/x 2>&1; touch /f 2>&1; exit 0'], timeout: '10' });
    assert.match(r.stdout!.toString(), /mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
    assert.match(r.stdout!.toString(), /Read-only file system/);
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod });
    assert.equal((await errorOf(cri.runtime.ContainerStatus({ container_id: id }))).code, status.NOT_FOUND);
  });

  test('crictl attach: the container\'s output, and its stdin closed when the client\'s ends (stdin_once)', async () => {
    const pod = await runPod('zeta');
    const id = (await cri.runtime.CreateContainer({
      pod_sandbox_id: pod, sandbox_config: podConfig('zeta'),
      config: containerConfig('cat', ['read line; echo "got $line"; cat; echo "stdin closed"'], { stdin: true, stdin_once: true }),
    })).container_id!;
    await cri.runtime.StartContainer({ container_id: id });
    const r = await crictl(['attach', '-i', id], 'hello\nmore\n');
    assert.equal(r.out, 'got hello\nmore\nstdin closed\n', r.err);
    let st;
    for (let i = 0; i < 50 && (st = (await cri.runtime.ContainerStatus({ container_id: id })).status!).state !== 'CONTAINER_EXITED'; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(st!.reason, 'Completed');
  });

  test('crictl port-forward: a connection to the port on the pod\'s loopback, inside its network namespace', async () => {
    const ns = join(dir, 'netns-pf');
    writeFileSync(ns, '');
    execFileSync('unshare', [`--net=${ns}`, 'true']);
    const port = await freePort();
    const server = spawn('nsenter', [`--net=${ns}`, '--', process.execPath, '-e',
      `require('child_process').execFileSync('ip',['link','set','lo','up']);require('net').createServer((c)=>{c.setEncoding('utf8').on('data',(d)=>c.write(d.toUpperCase())).on('end',()=>c.end('bye\\n'))}).listen(${port},'127.0.0.1',()=>console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((res) => server.stdout.once('data', res));
      sandboxes!.nextNetns = { path: ns, network: 'pods' };
      const pod = (await cri.runtime.RunPodSandbox({ config: { ...podConfig('pf'), linux: {} } })).pod_sandbox_id!;
      const local = await freePort();
      let ready: () => void;
      const forwarding = new Promise<void>((res) => (ready = res));
      const pf = crictlAsync(socket, ['port-forward', pod, `${local}:${port}`], undefined, (out) => { if (out.includes('Forwarding from')) ready(); });
      await forwarding;
      const got = await new Promise<string>((resolve, reject) => {
        const c = connect(local, '127.0.0.1');
        let text = '';
        c.setEncoding('utf8').on('data', (d: string) => {
          text += d;
          if (text === 'IN THE POD\n') c.end();
        }).on('end', () => resolve(text)).on('error', reject);
        c.write('in the pod\n');
      });
      assert.equal(got, 'IN THE POD\nbye\n');
      // Nothing listens on the host's loopback at that port: the connection was made in the namespace.
      pf.kill();
      await pf.done;
      await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod });
    } finally {
      server.kill('SIGKILL');
      execFileSync('umount', [ns]);
    }
  });

  test('exec with a terminal: the size the client sets reaches the process\'s terminal', async () => {
    const pod = await runPod('eta');
    const id = (await cri.runtime.CreateContainer({ pod_sandbox_id: pod, sandbox_config: podConfig('eta'), config: containerConfig('tty', ['exec sleep 1000']) })).container_id!;
    await cri.runtime.StartContainer({ container_id: id });
    // The engine skiffd's streaming backend uses, on the same stores (engines share them safely).
    const engine = new Engine({ root: join(dir, 'root'), state: join(dir, 'state') });
    const r = await engine.exec(id, { command: ['sh', '-c', 'sleep 0.5; stty size'], tty: true, stdio: ['pipe', 'pipe', 'pipe'] });
    r.resize(33, 99);
    let out = '';
    r.pipes.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const exit = await r.exit!;
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(exit.exitCode, 0);
    assert.equal(out.trim(), '33 99');
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod });
  });
});
