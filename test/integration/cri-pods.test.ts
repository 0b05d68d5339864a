// skiffd on the real pod layer (src/pod), driven as the kubelet's tools drive it: crictl and our gRPC client
// against skiffd's bin. A pod on a CNI bridge with two containers that talk over 127.0.0.1, the pod's IP from the
// host, port-forward into the pod, logs, stats; stopp/rmp leaving nothing; a kill -9 of skiffd while a pod runs;
// 100 pod cycles leaving nothing behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PodSandboxConfig } from '../../src/cri/proto/generated/runtime/v1/PodSandboxConfig.js';
import type { ContainerConfig } from '../../src/cri/proto/generated/runtime/v1/ContainerConfig.js';
import { buildDefaultImage, DEFAULT_IMAGE } from '../../src/image/default-image.js';
import { criClient, removePodsAndClose, type CriClient } from '../helpers/cri-client.js';
import { crictl, crictlAsync } from '../helpers/crictl.js';
import { freePort } from '../helpers/registry.js';
import { startSkiffd, stopAndClean, type TestSkiffd } from '../helpers/skiffd.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const BRIDGE = 'skcri0';
const SUBNET = '10.78.0.0/24';
const dir = mkdtempSync(join(tmpdir(), 'skiffd-pods-'));
const cniDir = join(dir, 'cni');
let skiffd: TestSkiffd;
let cri: CriClient;

const podConfig = (name: string, extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig => ({
  metadata: { name, uid: `uid-${name}`, namespace: 'test', attempt: 0 },
  hostname: name,
  log_directory: join(dir, 'logs', name),
  // What the kubelet asks of every sandbox: the pause's oom_score_adj is -998, which this host cannot give.
  linux: { cgroup_parent: `/kubepods/besteffort/pod${name}`, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  ...extra,
});

const containerConfig = (name: string, args: string[]): ContainerConfig => ({
  metadata: { name, attempt: 0 },
  image: { image: DEFAULT_IMAGE },
  command: ['sh', '-c'],
  args,
  log_path: `${name}.log`,
  linux: { resources: { oom_score_adj: '-997' } },
});

async function startContainer(pod: string, sandbox: PodSandboxConfig, name: string, args: string[]): Promise<string> {
  const id = (await cri.runtime.CreateContainer({ pod_sandbox_id: pod, sandbox_config: sandbox, config: containerConfig(name, args) })).container_id!;
  await cri.runtime.StartContainer({ container_id: id });
  return id;
}

/** What of a pod is left on the host: mounts, cgroups, iptables rules, pinned namespaces naming its ID. */
function leftovers(podId: string): string[] {
  const left: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(podId)) left.push(`mount ${line}`);
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', hierarchy, 'skiff', 'kubepods');
    if (existsSync(base)) {
      const found = execFileSync('find', [base, '-type', 'd'], { encoding: 'utf8' }).split('\n').filter((d) => d.includes(podId));
      left.push(...found.map((d) => `cgroup ${d}`));
    }
  }
  left.push(...execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(podId)).map((l) => `iptables ${l}`));
  for (const d of ['netns', 'ns', 'shm']) {
    const p = join(skiffd.state, 'pods', d);
    if (existsSync(p)) left.push(...readdirSync(p).filter((n) => n.startsWith(podId)).map((n) => `${d} ${n}`));
  }
  return left;
}

before(async () => {
  mkdirSync(cniDir, { recursive: true });
  writeFileSync(join(cniDir, '10-skcri.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: 'skcri',
    plugins: [
      { type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'ipam') } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }));
  mkdirSync(join(dir, 'root'), { recursive: true });
  await buildDefaultImage(join(dir, 'root'));
  skiffd = await startSkiffd(['--cni-conf-dir', cniDir], dir);
  cri = criClient(skiffd.socket);
});

after(async () => {
  await removePodsAndClose(cri);
  if (skiffd) await stopAndClean(skiffd);
  // The bridge plugin made this bridge for the test's network; nothing else uses it.
  execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null || true`]);
  rmSync(dir, { recursive: true, force: true });
});

describe('skiffd pods on the pod layer', () => {
  test('crictl: a pod on a bridge, two containers over 127.0.0.1, its IP from the host, port-forward, logs, stats; stopp and rmp leave nothing', async () => {
    const sandbox = podConfig('web');
    const podFile = join(dir, 'web-pod.json');
    // crictl reads enums as numbers (NamespaceMode POD 0, CONTAINER 1).
    writeFileSync(podFile, JSON.stringify({ ...sandbox, linux: { ...sandbox.linux, security_context: { namespace_options: { network: 0, pid: 1, ipc: 0 } } } }));
    const runp = crictl(skiffd.socket, ['runp', podFile]);
    assert.equal(runp.code, 0, runp.err);
    const pod = runp.out.trim();
    const server = await startContainer(pod, sandbox, 'server', ['echo started; exec httpd -f -p 8080 -h /etc']);
    const client = await startContainer(pod, sandbox, 'client', ['exec sleep 1000']);

    // The containers share the pod's network namespace and uts: 127.0.0.1 reaches the other one.
    const got = await cri.runtime.ExecSync({ container_id: client, cmd: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- 127.0.0.1:8080/hostname && exit; sleep 0.1; done; exit 1'], timeout: 10 });
    assert.deepEqual([got.exit_code, String(got.stdout)], [0, 'web\n'], String(got.stderr));
    const status = (await cri.runtime.PodSandboxStatus({ pod_sandbox_id: pod })).status!;
    assert.equal(status.state, 'SANDBOX_READY');
    const ip = status.network!.ip!;
    assert.ok(ip.startsWith('10.78.0.'), ip);
    assert.equal(execFileSync('wget', ['-qO-', `http://${ip}:8080/hostname`], { encoding: 'utf8' }), 'web\n');

    // The cgroup: the kubelet's cgroup_parent under skiffd's /skiff.
    const cg = String((await cri.runtime.ExecSync({ container_id: server, cmd: ['cat', '/proc/1/cgroup'], timeout: 5 })).stdout);
    assert.match(cg, new RegExp(`pids:/skiff/kubepods/besteffort/podweb/${server}\\n`));

    // crictl port-forward: a local port to the pod's 8080, through the streaming server.
    const local = await freePort();
    let ready!: () => void;
    const forwarding = new Promise<void>((r) => (ready = r));
    const pf = crictlAsync(skiffd.socket, ['port-forward', pod, `${local}:8080`], undefined, (out) => { if (out.includes('Forwarding from')) ready(); });
    await forwarding;
    const page = await new Promise<string>((resolve, reject) => {
      const c = connect(local, '127.0.0.1');
      let text = '';
      c.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve(text)).on('error', reject);
      c.write('GET /hostname HTTP/1.0\r\n\r\n');
    });
    pf.kill();
    await pf.done;
    assert.match(page, /^HTTP\/1\.[01] 200 OK[\s\S]*\r\n\r\nweb\n$/);

    const logs = crictl(skiffd.socket, ['logs', server]);
    assert.equal(logs.out, 'started\n', logs.err);
    assert.match(readFileSync(join(dir, 'logs', 'web', 'server.log'), 'utf8'), /^\S+ stdout F started\n$/);
    const stats = (await cri.runtime.ContainerStats({ container_id: server })).stats!;
    assert.ok(Number(stats.memory!.working_set_bytes!.value) > 0);

    assert.equal(crictl(skiffd.socket, ['stopp', pod]).code, 0);
    const stopped = (await cri.runtime.ListContainers({ filter: { pod_sandbox_id: pod } })).containers!;
    assert.deepEqual(stopped.map((c) => c.state), ['CONTAINER_EXITED', 'CONTAINER_EXITED']);
    assert.equal(crictl(skiffd.socket, ['rmp', pod]).code, 0);
    assert.deepEqual(leftovers(pod), []);
    assert.deepEqual((await cri.runtime.ListContainers({})).containers, []);
  });

  test('kill -9 of skiffd while a pod runs: a new skiffd lists it, the running container still runs, an exit meanwhile has its code', async () => {
    const sandbox = podConfig('keep');
    const pod = (await cri.runtime.RunPodSandbox({ config: sandbox })).pod_sandbox_id!;
    const long = await startContainer(pod, sandbox, 'long', ['exec sleep 1000']);
    const short = await startContainer(pod, sandbox, 'short', ['sleep 1; exit 3']);
    cri.close();
    skiffd.proc.kill('SIGKILL');
    await skiffd.stop();
    await new Promise((r) => setTimeout(r, 1500));
    skiffd = await startSkiffd(['--cni-conf-dir', cniDir], dir);
    cri = criClient(skiffd.socket);
    const pods = (await cri.runtime.ListPodSandbox({})).items!;
    assert.deepEqual(pods.map((p) => [p.id, p.state]), [[pod, 'SANDBOX_READY']]);
    const byId = new Map((await cri.runtime.ListContainers({})).containers!.map((c) => [c.id, c.state]));
    assert.deepEqual([byId.get(long), byId.get(short)], ['CONTAINER_RUNNING', 'CONTAINER_EXITED']);
    assert.equal((await cri.runtime.ContainerStatus({ container_id: short })).status!.exit_code, 3);
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: pod });
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod });
    assert.deepEqual(leftovers(pod), []);
  });

  test('100 pod cycles (runp, create, start, stopp, rmp) leave nothing behind', async (t) => {
    const started = Date.now();
    for (let i = 0; i < 100; i++) {
      const sandbox = podConfig(`cyc${i}`);
      const pod = (await cri.runtime.RunPodSandbox({ config: sandbox })).pod_sandbox_id!;
      await startContainer(pod, sandbox, 'app', ['exec sleep 1000']);
      await cri.runtime.StopPodSandbox({ pod_sandbox_id: pod });
      await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod });
      assert.deepEqual(leftovers(pod), [], `cycle ${i}`);
    }
    t.diagnostic(`100 cycles in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.deepEqual((await cri.runtime.ListPodSandbox({})).items, []);
    assert.deepEqual(readdirSync(join(dir, 'ipam', 'skcri')).filter((f) => /^\d/.test(f)), [], 'no IP left allocated');
  });
});
