// containerd's CRI plugin drives skiff-runtime (the runc shim with BinaryName set to it) and crictl drives
// containerd, as the kubelet would: a pod whose container has exited is stopped and removed, and nothing is left.
// Stopping it kills each task with `kill --all` and looks for runc's "container not running" (docs/runc-errors.md).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseMountinfo } from '../../src/common/mountinfo.js';
import { startContainerd, type TestContainerd } from '../helpers/containerd.js';
import { criTool, startCriRegistry } from '../helpers/cri-tools.js';
import type { TestRegistry } from '../helpers/registry.js';

const runtime = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));
const suffix = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'skiff-cri-'));
const bridge = `skcri${suffix}`;
const network = `skiff-cri-${suffix}`;
const cgroupParent = `/skiff/cri-${suffix}`;
const runtimeRoot = join(dir, 'runtime');
let crictlPath: string;
let registry: TestRegistry | undefined;
let containerd: TestContainerd | undefined;

function crictl(...args: string[]) {
  const endpoint = `unix://${containerd!.socket}`;
  const r = spawnSync(crictlPath, ['--runtime-endpoint', endpoint, '--image-endpoint', endpoint, '--timeout', '60s', ...args],
    { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** crictl, which must succeed; its stdout. */
function ok(...args: string[]): string {
  const r = crictl(...args);
  assert.equal(r.code, 0, `crictl ${args.join(' ')}: ${r.err}\ncontainerd said:\n${containerd!.log().slice(-4000)}`);
  return r.out;
}

/** A /24 in 10.0.0.0/8 that no route of this host covers yet (other engineers' networks included). */
function freeSubnet(): string {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout;
  for (;;) {
    const prefix = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}`;
    if (!routes.includes(`${prefix}.`)) return `${prefix}.0/24`;
  }
}

function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  return path;
}

before(async () => {
  crictlPath = criTool('crictl');
  registry = await startCriRegistry();
  mkdirSync(join(dir, 'net.d'));
  writeJson(join(dir, 'net.d', '10-skiff-cri.conflist'), {
    cniVersion: '1.0.0', name: network,
    plugins: [{
      type: 'bridge', bridge, isGateway: true, ipMasq: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: freeSubnet() }]], dataDir: join(dir, 'ipam') },
    }],
  });
  // The local registry speaks plain HTTP; it is also the mirror of the registries critest's images come from.
  for (const host of [registry.address, 'docker.io', 'registry.k8s.io', 'gcr.io']) {
    mkdirSync(join(dir, 'certs.d', host), { recursive: true });
    writeFileSync(join(dir, 'certs.d', host, 'hosts.toml'), [
      `server = "${host === registry.address ? `http://${host}` : `https://${host}`}"`,
      `[host."http://${registry.address}"]`, '  capabilities = ["pull", "resolve"]',
    ].join('\n') + '\n');
  }
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  containerd = await startContainerd(dir, { tables: [
    `[${cri}]`,
    `  sandbox_image = "${registry.address}/cri-test/pause:latest"`,
    // This machine lacks CAP_SYS_RESOURCE: no process may lower oom_score_adj, which a sandbox asks for (-998).
    '  restrict_oom_score_adj = true',
    // Not the default port 10010, which another daemon on this machine may hold.
    '  stream_server_address = "127.0.0.1"', '  stream_server_port = "0"',
    // Network namespaces pinned under our state directory, not /var/run/netns.
    '  netns_mounts_under_state_dir = true',
    `[${cri}.containerd]`, '  default_runtime_name = "skiff"',
    `[${cri}.containerd.runtimes.skiff]`, '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.skiff.options]`,
    `  BinaryName = "${runtime}"`, `  Root = "${runtimeRoot}"`, '  SystemdCgroup = false',
    `[${cri}.cni]`, '  bin_dir = "/usr/lib/cni"', `  conf_dir = "${dir}/net.d"`,
    `[${cri}.registry]`, `  config_path = "${dir}/certs.d"`,
  ] });
});

after(async () => {
  if (containerd) {
    for (const pod of crictl('pods', '-q').out.split('\n').filter(Boolean)) crictl('rmp', '-f', pod);
    await containerd.stop();
  }
  // What a failed run left to skiff-runtime: its processes, cgroups and mounts.
  const left = join(runtimeRoot, 'k8s.io');
  for (const id of existsSync(left) ? readdirSync(left) : []) spawnSync(runtime, ['--root', left, 'delete', '--force', id]);
  await registry?.stop();
  spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  // Snapshots and sandboxes of a failed run: unmounted before the directory goes.
  for (const m of parseMountinfo().filter((e) => e.mountPoint.startsWith(dir + '/')).reverse()) {
    spawnSync('umount', ['-l', m.mountPoint]);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('containerd CRI with skiff-runtime', () => {
  test('a pod whose container has exited: runp, create, start, stopp, rmp, and nothing is left', () => {
    const image = `${registry!.address}/cri-test/busybox:latest`;
    ok('pull', image);
    const podConfig = writeJson(join(dir, 'pod.json'), {
      metadata: { name: `exits-${suffix}`, namespace: 'default', uid: `uid-${suffix}`, attempt: 0 },
      hostname: 'skiff-cri', log_directory: join(dir, 'logs'), linux: { cgroup_parent: cgroupParent },
    });
    const containerConfig = writeJson(join(dir, 'container.json'), {
      metadata: { name: 'exits' }, image: { image }, log_path: 'exits.log',
      command: ['sh', '-c', 'echo hello from $(hostname); exit 3'],
    });
    const pod = ok('runp', podConfig);
    const container = ok('create', pod, containerConfig, podConfig);
    ok('start', container);
    let status: { state: string; exitCode: number } = { state: '', exitCode: -1 };
    for (let i = 0; i < 300 && status.state !== 'CONTAINER_EXITED'; i++) {
      status = JSON.parse(ok('inspect', container)).status;
      if (status.state !== 'CONTAINER_EXITED') spawnSync('sleep', ['0.2']);
    }
    assert.equal(status.state, 'CONTAINER_EXITED');
    assert.equal(status.exitCode, 3);
    assert.match(readFileSync(join(dir, 'logs', 'exits.log'), 'utf8'), /stdout F hello from skiff-cri\n/);

    ok('stopp', pod);
    ok('rmp', pod);

    assert.equal(ok('pods', '-q'), '');
    assert.equal(ok('ps', '-a', '-q'), '');
    assert.equal(containerd!.ctr('k8s.io', 'containers', 'ls', '-q').out.trim(), '');
    assert.equal(containerd!.ctr('k8s.io', 'tasks', 'ls', '-q').out.trim(), '');
    // skiff-runtime's state: the shim gives it <Root>/<namespace> as --root.
    const states = join(runtimeRoot, 'k8s.io');
    assert.deepEqual(existsSync(states) ? readdirSync(states) : [], []);
    const cgroups = readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, cgroupParent)).filter(existsSync);
    assert.deepEqual(cgroups, []);
    assert.deepEqual(parseMountinfo().filter((m) => m.mountPoint.startsWith(dir + '/')).map((m) => m.mountPoint), []);
    const netns = join(dir, 'state', 'io.containerd.grpc.v1.cri', 'netns');
    assert.deepEqual(existsSync(netns) ? readdirSync(netns) : [], []);
    assert.equal(spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).stdout, '');
    // host-local keeps one file per address it handed out.
    const leases = join(dir, 'ipam', network);
    assert.deepEqual(readdirSync(leases).filter((f) => /^\d/.test(f)), []);
  });
});
