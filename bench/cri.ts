// skiffd beside containerd 1.6's CRI plugin (Debian's, with runc), in one run, through the same gRPC client, skiffd
// twice: on its own runtime, and on the "runc" runtime handler (runc's binary under skiff's monitor, as containerd
// runs runc under its shim). The
// server time of each call of a pod cycle (RunPodSandbox, CreateContainer, StartContainer, StopPodSandbox,
// RemovePodSandbox) and of the whole cycle, PullImage of a two-layer image; then PODS running pods with one container
// each: the private memory they cost beyond their containers' own processes (the daemon's growth plus every new
// process but the payload: skiff's pause and monitor, containerd's shim and pause), and ListPodSandbox with them.
// Each server has its own root, socket, CNI bridge network and cgroups under /skiff; images come from a local
// registry (test/cri). Root, after scripts/setup.sh:  node dist/bench/cri.js [CYCLES] [PODS]   (default 10 100)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { criClient, type CriClient } from '../test/helpers/cri-client.js';
import { startContainerd, type TestContainerd } from '../test/helpers/containerd.js';
import { startCriRegistry } from '../test/helpers/cri-tools.js';
import { removeEmptyCgroups } from '../test/helpers/foreign-cgroups.js';
import type { TestRegistry } from '../test/helpers/registry.js';
import { startSkiffd, type TestSkiffd } from '../test/helpers/skiffd.js';

const CYCLES = Number(process.argv[2] ?? 10);
const PODS = Number(process.argv[3] ?? 100);
const work = mkdtempSync(join(tmpdir(), 'skiff-bench-cri-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Server {
  name: string;
  cri: CriClient;
  /** RunPodSandbox's runtime_handler ('' = the default). */
  handler: string;
  /** The daemon's pid, for its memory. */
  pid: () => number;
  /** The cgroup_parent its pods are given: under /skiff for both (skiffd nests it under its own /skiff). */
  cgroup: (pod: string) => string;
}

function network(dir: string, name: string, bridge: string, subnet: string): string {
  const netd = join(dir, 'net.d');
  mkdirSync(netd, { recursive: true });
  writeFileSync(join(netd, `10-${name}.conflist`), JSON.stringify({
    cniVersion: '1.0.0', name,
    plugins: [{ type: 'bridge', bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: join(dir, 'ipam') } }],
  }));
  return netd;
}

/** Private (clean + dirty) KiB of a process, from /proc/PID/smaps_rollup; 0 once it is gone. */
function privateKib(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return field('Private_Clean') + field('Private_Dirty');
  } catch {
    return 0;
  }
}

const pids = () => new Set(readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number));
const comm = (pid: number) => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } };

const podConfig = (server: Server, name: string) => ({
  metadata: { name, uid: `uid-${name}`, namespace: 'bench', attempt: 0 },
  log_directory: join(work, 'logs', server.name, name),
  linux: { cgroup_parent: server.cgroup(name) },
});
const containerConfig = (image: string) => ({ metadata: { name: 'app', attempt: 0 }, image: { image }, command: ['sleep', '1000'], log_path: 'app.log', linux: {} });

async function timed<T>(into: number[], call: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await call();
  into.push(performance.now() - t0);
  return r;
}

async function measure(server: Server, image: string, pullImage: string) {
  const { cri } = server;
  const ops: Record<string, number[]> = { runp: [], create: [], start: [], stopp: [], rmp: [], cycle: [], pull: [] };
  await cri.image.PullImage({ image: { image } });
  for (let i = 0; i < CYCLES + 2; i++) {
    const sink: Record<string, number[]> = i < 2 ? { runp: [], create: [], start: [], stopp: [], rmp: [], cycle: [] } : ops;
    const config = podConfig(server, `cycle${i}`);
    const t0 = performance.now();
    const pod = (await timed(sink.runp, () => cri.runtime.RunPodSandbox({ config, runtime_handler: server.handler }))).pod_sandbox_id!;
    const ctr = (await timed(sink.create, () => cri.runtime.CreateContainer({ pod_sandbox_id: pod, config: containerConfig(image), sandbox_config: config }))).container_id!;
    await timed(sink.start, () => cri.runtime.StartContainer({ container_id: ctr }));
    await timed(sink.stopp, () => cri.runtime.StopPodSandbox({ pod_sandbox_id: pod }));
    await timed(sink.rmp, () => cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod }));
    sink.cycle.push(performance.now() - t0);
  }
  for (let i = 0; i < Math.min(CYCLES, 5); i++) {
    await cri.image.RemoveImage({ image: { image: pullImage } }).catch(() => {});
    await timed(ops.pull, () => cri.image.PullImage({ image: { image: pullImage } }));
  }

  // PODS running pods: what they cost, and listing them.
  const before = pids();
  const daemonBefore = privateKib(server.pid());
  const pods: string[] = [];
  for (let i = 0; i < PODS; i++) {
    const config = podConfig(server, `held${i}`);
    const pod = (await cri.runtime.RunPodSandbox({ config, runtime_handler: server.handler })).pod_sandbox_id!;
    const ctr = (await cri.runtime.CreateContainer({ pod_sandbox_id: pod, config: containerConfig(image), sandbox_config: config })).container_id!;
    await cri.runtime.StartContainer({ container_id: ctr });
    pods.push(pod);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const added = [...pids()].filter((p) => !before.has(p) && comm(p) !== 'sleep');
  const daemon = (privateKib(server.pid()) - daemonBefore) / PODS;
  const processes = added.reduce((sum, p) => sum + privateKib(p), 0) / PODS;
  const perPod = daemon + processes;
  const list: number[] = [];
  for (let i = 0; i < 20; i++) await timed(list, () => cri.runtime.ListPodSandbox({}));
  for (const pod of pods) {
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: pod });
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod });
  }
  return { ops, perPod, daemon, processes, list: median(list) };
}

let registry: TestRegistry | undefined;
let skiffd: TestSkiffd | undefined;
let containerd: TestContainerd | undefined;
try {
  registry = await startCriRegistry();
  const image = `${registry.address}/cri-test/busybox:latest`;
  const pullImage = `${registry.address}/e2e-test-images/busybox:1.29-2`;

  const sdir = join(work, 'skiffd');
  mkdirSync(join(sdir, 'root'), { recursive: true });
  writeFileSync(join(sdir, 'skiffd.json'), JSON.stringify({ runtimeHandlers: { runc: { binary: '/usr/sbin/runc' } } }));
  skiffd = await startSkiffd(['--cni-conf-dir', network(sdir, 'skbench', 'skbench0', '10.81.0.0/16'), '--config', join(sdir, 'skiffd.json')], sdir);
  const skiffServer: Server = { name: 'skiffd', handler: '', cri: criClient(skiffd.socket), pid: () => skiffd!.proc.pid!, cgroup: (p) => `/bench-skiffd/${p}` };
  const skiffRunc: Server = { ...skiffServer, name: 'skiffd-runc', handler: 'runc', cgroup: (p) => `/bench-skiffd/runc-${p}` };

  const cdir = join(work, 'containerd');
  mkdirSync(join(cdir, 'certs.d', registry.address), { recursive: true });
  writeFileSync(join(cdir, 'certs.d', registry.address, 'hosts.toml'), `server = "http://${registry.address}"\n`);
  const netd = network(cdir, 'ctbench', 'ctbench0', '10.82.0.0/16');
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  containerd = await startContainerd(cdir, { tables: [
    `[${cri}]`, `  sandbox_image = "${registry.address}/cri-test/pause:latest"`, '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"', '  stream_server_port = "0"', '  netns_mounts_under_state_dir = true',
    `[${cri}.containerd]`, '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`, '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`, '  SystemdCgroup = false',
    `[${cri}.cni]`, '  bin_dir = "/usr/lib/cni"', `  conf_dir = "${netd}"`,
    `[${cri}.registry]`, `  config_path = "${join(cdir, 'certs.d')}"`,
  ] });
  const containerdPid = Number(spawnSync('pgrep', ['-f', `containerd --config ${join(cdir, 'config.toml')}`], { encoding: 'utf8' }).stdout.trim().split('\n')[0]);
  const ctrServer: Server = { name: 'containerd', handler: '', cri: criClient(containerd.socket), pid: () => containerdPid, cgroup: (p) => `/skiff/bench-containerd/${p}` };

  const s = await measure(skiffServer, image, pullImage);
  const r = await measure(skiffRunc, image, pullImage);
  const c = await measure(ctrServer, image, pullImage);
  const f = (x: number) => x.toFixed(1).padStart(12);
  const ratio = (x: number) => x.toFixed(2).padStart(12);
  console.log(`${CYCLES} pod cycles, medians in ms of the server's answer (one gRPC client for all); load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
  console.log(`${'call'.padEnd(26)}${'skiffd'.padStart(12)}${'skiffd-runc'.padStart(12)}${'containerd'.padStart(12)}  ${'skiffd/ctrd'.padStart(12)}${'-runc/ctrd'.padStart(12)}`);
  for (const op of ['runp', 'create', 'start', 'stopp', 'rmp', 'cycle', 'pull']) {
    const a = median(s.ops[op]), b = median(r.ops[op]), d = median(c.ops[op]);
    console.log(`${op.padEnd(26)}${f(a)}${f(b)}${f(d)}  ${ratio(a / d)}${ratio(b / d)}`);
  }
  console.log(`${`ListPodSandbox (${PODS} pods)`.padEnd(26)}${f(s.list)}${f(r.list)}${f(c.list)}  ${ratio(s.list / c.list)}${ratio(r.list / c.list)}`);
  console.log(`\nprivate memory per running pod beyond its payload, ${PODS} pods (daemon growth + every new process but the sleeps):`);
  console.log(`  skiffd ${s.perPod.toFixed(0)} KiB, skiffd-runc ${r.perPod.toFixed(0)} KiB, containerd ${c.perPod.toFixed(0)} KiB (ratios ${(s.perPod / c.perPod).toFixed(2)}, ${(r.perPod / c.perPod).toFixed(2)})`);
  const split = (x: typeof s) => `${x.daemon.toFixed(0)} daemon + ${x.processes.toFixed(0)} processes`;
  console.log(`  skiffd: ${split(s)}; skiffd-runc: ${split(r)}; containerd: ${split(c)}`);
  skiffServer.cri.close();
  ctrServer.cri.close();
} finally {
  await skiffd?.stop();
  await containerd?.stop();
  await registry?.stop();
  for (const bridge of ['skbench0', 'ctbench0']) spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  // containerd, as the kubelet's runtime, leaves the pods' cgroup_parent directories to the kubelet that made them;
  // skiffd's are gone unless a run failed half way. Only empty directories go (rmdir).
  spawnSync('sh', ['-c', 'for h in /sys/fs/cgroup/*/skiff/bench-containerd /sys/fs/cgroup/*/skiff/bench-skiffd; do [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \\; ; done'], { stdio: 'ignore' });
  // containerd's runc made /skiff in the name=systemd hierarchy too, and leaves it.
  removeEmptyCgroups(['skiff']);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const point = line.split(' ')[4];
    if (point?.startsWith(`${work}/`)) spawnSync('umount', ['-l', point]);
  }
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
