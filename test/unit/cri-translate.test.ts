// CRI requests as the engine's and the pod layer's: what the kubelet 1.26 sends for a pod and its containers
// becomes the ContainerConfig and PodCreateRequest the tests name; what skiffd cannot honour is refused with every
// field named. Requests go through the real proto codec first, so they look exactly as the server receives them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { CriError } from '../../src/cri/grpc-error.js';
import { translateContainer, updatedResources, type HostFacts } from '../../src/cri/container-translate.js';
import { translateSandbox } from '../../src/cri/sandbox-translate.js';
import { criPackage } from '../../src/cri/proto/load.js';
import type { CreateContainerRequest, CreateContainerRequest__Output } from '../../src/cri/proto/generated/runtime/v1/CreateContainerRequest.js';
import type { RunPodSandboxRequest, RunPodSandboxRequest__Output } from '../../src/cri/proto/generated/runtime/v1/RunPodSandboxRequest.js';
import type { PodView } from '../../src/cri/sandboxes.js';

function received<Req extends object, Out>(method: 'CreateContainer' | 'RunPodSandbox', req: Req): Out {
  const def = criPackage().RuntimeService.service[method] as unknown as { requestSerialize(v: object): Buffer; requestDeserialize(b: Buffer): Out };
  return def.requestDeserialize(def.requestSerialize(req));
}

const host: HostFacts = { oomScoreAdj: 0, canLowerOomScoreAdj: false, readFile: () => '{"defaultAction":"SCMP_ACT_ALLOW"}' };
const pod: PodView = {
  id: 'p'.repeat(64), name: 'web_default_u1_0', status: 'running', created: '', labels: {}, annotations: {}, network: 'pods', additionalIps: [],
  share: { pid: false, ipc: true, uts: true, net: true }, containers: [], cgroupParent: '/kubepods', publish: [],
};
const meta = { name: 'web', namespace: 'default', uid: 'u1' };

function container(config: CreateContainerRequest['config']) {
  const r = received<CreateContainerRequest, CreateContainerRequest__Output>('CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: { log_directory: '/var/log/pods/x' } });
  return translateContainer(r.config, pod, r.sandbox_config, host, meta);
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CriError);
    assert.equal(err.code, status.INVALID_ARGUMENT);
    return err.message;
  }
  return assert.fail('expected a refusal');
}

test('a kubelet container: command as entrypoint, args, env, mounts with propagation, log path in the pod\'s directory', () => {
  const t = container({
    metadata: { name: 'nginx', attempt: 2 }, image: { image: 'nginx:1' }, command: ['/bin/sh'], args: ['-c', 'run'], working_dir: '/srv',
    envs: [{ key: 'A', value: '1' }], log_path: 'nginx/2.log', stdin: true, stdin_once: true, tty: true,
    mounts: [
      { container_path: '/data', host_path: '/var/lib/k/d', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
      { container_path: '/shared', host_path: '/mnt/s', propagation: 'PROPAGATION_BIDIRECTIONAL' },
    ],
    devices: [{ container_path: '/dev/fuse', host_path: '/dev/fuse', permissions: 'rw' }],
    labels: { l: '1' }, annotations: { a: '2' },
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  });
  assert.equal(t.name, 'nginx_web_default_u1_2');
  assert.equal(t.image, 'nginx:1');
  const c = t.config;
  assert.deepEqual([c.entrypoint, c.command, c.workdir, c.env], [['/bin/sh'], ['-c', 'run'], '/srv', ['A=1']]);
  assert.equal(c.logPath, '/var/log/pods/x/nginx/2.log');
  assert.deepEqual([c.openStdin, c.stdinOnce, c.tty], [true, true, true]);
  assert.deepEqual(c.mounts, [
    { type: 'bind', source: '/var/lib/k/d', target: '/data', readOnly: true, propagation: 'rslave', createSource: true },
    { type: 'bind', source: '/mnt/s', target: '/shared', readOnly: false, propagation: 'rshared', createSource: true },
  ]);
  assert.deepEqual(c.devices, [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rw' }]);
  assert.deepEqual([c.labels, c.annotations], [{ l: '1' }, { a: '2' }]);
  assert.equal(c.networkMode, 'pods', 'the pod\'s network: the pod layer has the container join its namespace');
  assert.equal(c.seccomp, 'unconfined', 'no seccomp asked for: unconfined, as containerd 1.6');
});

test('args alone replace the image\'s Cmd and keep its entrypoint', () => {
  const c = container({ metadata: { name: 'a' }, image: { image: 'i' }, args: ['x'] }).config;
  assert.deepEqual([c.entrypoint, c.command], [undefined, ['x']]);
  assert.equal(c.seccomp, 'unconfined', 'no security context: unconfined, as containerd');
});

test('security context: user and group, groups, capabilities, seccomp, masked paths, namespaces', () => {
  const c = container({
    metadata: { name: 's' }, image: { image: 'i' },
    linux: {
      resources: { cpu_period: '100000', cpu_quota: '20000', cpu_shares: '256', memory_limit_in_bytes: '67108864', oom_score_adj: '-998', cpuset_cpus: '0', hugepage_limits: [{ page_size: '2MB', limit: '4194304' }] },
      security_context: {
        run_as_user: { value: '1000' }, run_as_group: { value: '3000' }, supplemental_groups: ['4000'],
        capabilities: { add_capabilities: ['net_admin', 'CAP_SYS_TIME'], drop_capabilities: ['ALL'] },
        readonly_rootfs: true, no_new_privs: true, masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'],
        seccomp: { profile_type: 'Localhost', localhost_ref: '/etc/p.json' },
        namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'NODE' },
      },
    },
  });
  assert.equal(c.config.user, '1000:3000');
  assert.deepEqual(c.config.groupAdd, [4000]);
  assert.deepEqual([c.config.capAdd, c.config.capDrop], [['CAP_NET_ADMIN', 'CAP_SYS_TIME'], ['ALL']]);
  assert.deepEqual([c.config.readOnlyRootfs, c.config.noNewPrivileges, c.config.maskedPaths, c.config.readonlyPaths], [true, true, ['/proc/kcore'], ['/proc/sys']]);
  assert.deepEqual(c.config.seccomp, { file: '/etc/p.json', text: '{"defaultAction":"SCMP_ACT_ALLOW"}' });
  assert.deepEqual(c.config.resources, { cpuPeriod: 100000, cpuQuota: 20000, cpuShares: 256, memory: 67108864, cpusetCpus: '0', hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
  assert.equal(c.config.oomScoreAdj, 0, 'clamped to our own without CAP_SYS_RESOURCE');
  assert.match(c.notes[0], /oom_score_adj -998 clamped/);
  assert.deepEqual(c.config.namespaceModes, { ipc: 'host' });
});

test('pid POD in a pod that does not share it, unified, selinux, ambient caps, bad paths: every field named', () => {
  const m = refusal(() => container({
    metadata: { name: 'b' }, image: { image: 'i' }, working_dir: 'rel', log_path: '', envs: [{ key: '', value: 'x' }],
    mounts: [{ container_path: 'c', host_path: '/h' }],
    linux: {
      resources: { unified: { 'memory.max': '1' } },
      security_context: {
        privileged: true, selinux_options: { type: 't' }, capabilities: { add_ambient_capabilities: ['CAP_X'] }, run_as_group: { value: '5' },
        namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' }, seccomp_profile_path: 'bogus',
      },
    },
  }));
  for (const f of ['config.working_dir', 'config.envs[0].key', 'config.mounts[0].container_path', 'config.linux.resources.unified',
    'config.linux.security_context.privileged', 'selinux_options', 'add_ambient_capabilities', 'run_as_group', 'namespace_options.network',
    'namespace_options.pid', 'seccomp_profile_path']) {
    assert.ok(m.includes(f), `${f} in ${m}`);
  }
});

test('UpdateContainerResources: the limits the engine applies', () => {
  assert.deepEqual(updatedResources({ cpu_period: '0', cpu_quota: '50000', cpu_shares: '0', memory_limit_in_bytes: '100000000', oom_score_adj: '0', cpuset_cpus: '', cpuset_mems: '', hugepage_limits: [], unified: {}, memory_swap_limit_in_bytes: '0' }, host), { cpuQuota: 50000, memory: 100000000 });
});

test('a kubelet sandbox: name, metadata in our annotations, network, shares, ports, DNS, cgroup parent, sysctls', () => {
  const r = received<RunPodSandboxRequest, RunPodSandboxRequest__Output>('RunPodSandbox', {
    config: {
      metadata: { name: 'web', namespace: 'default', uid: 'u1', attempt: 1 }, hostname: 'web-0', log_directory: '/var/log/pods/u1',
      dns_config: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
      port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '127.0.0.1' }, { protocol: 'UDP', container_port: 53 }],
      labels: { app: 'web' }, annotations: { k: 'v' },
      linux: { cgroup_parent: '/kubepods/besteffort/podu1', sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' }, security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } },
    },
  });
  const p = translateSandbox(r.config, '', [], 'pods', '/skiff');
  assert.equal(p.name, 'web_default_u1_1');
  assert.equal(p.network, 'pods');
  assert.equal(p.hostname, 'web-0');
  assert.deepEqual(p.share, { net: true, pid: true, ipc: true, uts: true });
  assert.deepEqual(p.publish, [{ hostIP: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(p.dns, { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] });
  assert.equal(p.cgroupParent, '/skiff/kubepods/besteffort/podu1');
  assert.deepEqual(p.sysctls, { 'net.ipv4.ip_unprivileged_port_start': '0' });
  assert.equal(p.labels!.app, 'web');
  assert.equal(JSON.parse(p.annotations!['io.skiff.cri.sandbox-metadata']).uid, 'u1');
  assert.equal(p.annotations!['io.skiff.cri.log-directory'], '/var/log/pods/u1');
  assert.equal(p.cniArgs!.K8S_POD_NAME, 'web');
});

test('a sandbox on the node\'s network; handlers, TARGET pid and a missing CNI network refused by name', () => {
  const host = received<RunPodSandboxRequest, RunPodSandboxRequest__Output>('RunPodSandbox', {
    config: { metadata: { name: 'h', namespace: 'n', uid: 'u' }, linux: { security_context: { namespace_options: { network: 'NODE', pid: 'NODE', ipc: 'NODE' } } } },
  });
  const p = translateSandbox(host.config, '', [], undefined, '/skiff');
  assert.equal(p.network, 'host');
  assert.deepEqual(p.share, { net: true, pid: false, ipc: false, uts: false });
  const bad = received<RunPodSandboxRequest, RunPodSandboxRequest__Output>('RunPodSandbox', {
    config: { metadata: { name: 'b' }, linux: { security_context: { namespace_options: { pid: 'TARGET' } } } },
  });
  const m = refusal(() => translateSandbox(bad.config, 'kata', ['runc', 'crun'], undefined, '/skiff'));
  for (const f of ['config.metadata.namespace', 'config.metadata.uid', 'namespace_options.pid', 'namespace_options.network', 'config.runtime_handler']) assert.ok(m.includes(f), `${f} in ${m}`);
  assert.ok(m.includes('no runtime for "kata" is configured (configured: runc, crun'), m);
  const withHandler = translateSandbox(host.config, 'runc', ['runc'], undefined, '/skiff');
  assert.equal(withHandler.runtime, 'runc');
});
