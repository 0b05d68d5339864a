// RunPodSandbox's PodSandboxConfig as a pod request (sandboxes.ts): a pure function of the request, the pod
// network's name and the default cgroup parent, so unit tests can feed what the kubelet sends. Every field is
// carried over or refused with INVALID_ARGUMENT naming it; all problems are reported together.
import { hostname } from 'node:os';
import type { PortRequest } from '../engine/container-config.js';
import { KEYS } from './cri-keys.js';
import { engineName } from './engine-name.js';
import { invalidArgument } from './grpc-error.js';
import type { PodSandboxConfig__Output } from './proto/generated/runtime/v1/PodSandboxConfig.js';
import type { PodCreateRequest } from './sandboxes.js';

/** The pod's name among pods: containerd's makeSandboxName (name_namespace_uid_attempt). */
export function sandboxName(m: { name: string; namespace: string; uid: string; attempt: number }): string {
  return engineName([m.name, m.namespace, m.uid, String(m.attempt)]);
}

/**
 * The pod's cgroup: the kubelet's cgroup_parent (cgroupfs syntax, e.g. /kubepods/besteffort/pod<uid>) nested under
 * skiffd's own cgroupParent, so that everything skiffd makes stays in its subtree; pods/<namespace>_<name>_<uid>
 * there when the kubelet names none.
 */
function podCgroup(root: string, kubelet: string | undefined, m: { name: string; namespace: string; uid: string }): string {
  const below = kubelet ? kubelet.replace(/^\/+/, '') : `pods/${engineName([m.namespace, m.name, m.uid])}`;
  return `${root.replace(/\/+$/, '')}/${below}`;
}

/** `handlers`: the runtime handlers skiffd is configured with, besides the default "". */
export function translateSandbox(
  c: PodSandboxConfig__Output | null, runtimeHandler: string, handlers: string[], podNetwork: string | undefined, cgroupParent: string,
): PodCreateRequest {
  const problems: string[] = [];
  const add = (field: string, message: string) => problems.push(`config.${field}: ${message}`);
  if (!c) throw invalidArgument('config: no sandbox config');
  const m = c.metadata;
  if (!m?.name) add('metadata.name', 'no name');
  if (!m?.namespace) add('metadata.namespace', 'no namespace');
  if (!m?.uid) add('metadata.uid', 'no uid');
  const ns = c.linux?.security_context?.namespace_options;
  const hostNet = String(ns?.network) === 'NODE';
  const share = {
    // The pod's network, which for a host network pod is the node's: the pod layer then makes none.
    net: true,
    pid: String(ns?.pid) === 'POD',
    ipc: String(ns?.ipc ?? 'POD') === 'POD',
    uts: !hostNet,
  };
  if (String(ns?.pid) === 'TARGET') add('linux.security_context.namespace_options.pid', 'TARGET is for containers, not sandboxes');
  if (ns?.userns_options && String(ns.userns_options.mode) !== 'NODE') add('linux.security_context.namespace_options.userns_options', 'user namespaces are not supported: only mode NODE');
  const se = c.linux?.security_context?.selinux_options;
  if (se && (se.user || se.role || se.type || se.level)) add('linux.security_context.selinux_options', 'SELinux is not enabled on this host');
  // The sandbox's own run_as_*, groups, readonly root and seccomp concern containerd's pause container. Here the
  // pod's namespaces are held by skiff's native pause process, which has no image, no root filesystem of its own
  // and runs no code from the pod: there is nothing those settings would change. They reach the containers through
  // each container's own security context, which the kubelet fills from the same pod spec.
  if (!hostNet && !podNetwork) add('linux.security_context.namespace_options.network', 'POD, and there is no CNI network configuration for pods (NetworkReady is false)');
  const publish: PortRequest[] = [];
  c.port_mappings.forEach((p, i) => {
    // containerd maps only ports with a host port; the others are the container's alone.
    if (p.host_port <= 0) return;
    const protocol = String(p.protocol).toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(protocol)) add(`port_mappings[${i}].protocol`, `unknown protocol ${String(p.protocol)}`);
    if (p.container_port <= 0 || p.container_port > 65535) add(`port_mappings[${i}].container_port`, `${p.container_port} is not a port`);
    publish.push({ hostIP: p.host_ip || undefined, hostPort: p.host_port, containerPort: p.container_port, protocol: protocol as PortRequest['protocol'] });
  });
  if (hostNet && publish.length) add('port_mappings', 'ports cannot be mapped with the node\'s network');
  if (c.windows) add('windows', 'a Windows sandbox config on Linux');
  if (runtimeHandler && !handlers.includes(runtimeHandler)) {
    // containerd's words: `no runtime for "x" is configured`.
    add('runtime_handler', `no runtime for "${runtimeHandler}" is configured (${handlers.length ? `configured: ${handlers.join(', ')}` : 'none is'}; "" is skiff's own)`);
  }
  const res = c.linux?.resources;
  const resources: PodCreateRequest['resources'] = {};
  if (res) {
    const memory = Number(res.memory_limit_in_bytes || '0');
    if (memory > 0) resources.memory = memory;
    const quota = Number(res.cpu_quota || '0'), period = Number(res.cpu_period || '0');
    if (quota > 0 && period > 0) resources.nanoCpus = Math.round((quota / period) * 1e9);
  }
  if (problems.length) throw invalidArgument(problems.join('; '));
  const privileged = Boolean(c.linux?.security_context?.privileged);
  return {
    name: sandboxName({ name: m!.name, namespace: m!.namespace, uid: m!.uid, attempt: m!.attempt }),
    // containerd: a sandbox without a hostname gets the node's (the pod's name is no valid hostname).
    ...(!hostNet ? { hostname: c.hostname || hostname() } : {}),
    labels: { ...c.labels },
    annotations: {
      ...c.annotations,
      [KEYS.sandboxMetadata]: JSON.stringify(m),
      [KEYS.logDirectory]: c.log_directory,
      [KEYS.runtimeHandler]: runtimeHandler,
      [KEYS.privileged]: String(privileged),
      [KEYS.namespaceOptions]: JSON.stringify({ network: ns?.network ?? 'POD', pid: ns?.pid ?? 'CONTAINER', ipc: ns?.ipc ?? 'POD', target_id: '' }),
    },
    network: hostNet ? 'host' : podNetwork!,
    publish,
    ...(c.dns_config ? { dns: { servers: c.dns_config.servers, searches: c.dns_config.searches, options: c.dns_config.options } } : {}),
    share,
    cgroupParent: podCgroup(cgroupParent, c.linux?.cgroup_parent, m!),
    ...(Object.keys(resources).length ? { resources } : {}),
    sysctls: { ...(c.linux?.sysctls ?? {}) },
    ...(runtimeHandler ? { runtime: runtimeHandler } : {}),
    cniArgs: m ? { K8S_POD_NAMESPACE: m.namespace, K8S_POD_NAME: m.name, K8S_POD_INFRA_CONTAINER_ID: '', K8S_POD_UID: m.uid, IgnoreUnknown: '1' } : {},
  };
}
