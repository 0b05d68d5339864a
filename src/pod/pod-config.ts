// A PodCreateRequest checked whole (every problem named by its field) and filled in with the defaults, as the pod's
// record keeps it. Sysctls follow the kubelet's rule: only those a pod's own namespaces scope (net.* in its network
// namespace, the ipc ones in its ipc namespace) may be set; anything else would change the host.
import { ValidationError, type Problem } from '../common/errors.js';
import { parseIPv4 } from '../network/ipv4.js';
import { checkPortMappings } from '../network/port-mapping.js';
import { parseExtraHost } from '../engine/container-files.js';
import type { PodCreateRequest, PodRecord } from './pod-types.js';

/** docker's default /dev/shm size. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const MIN_MEMORY = 6 * 1024 * 1024;
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/;
const IPC_SYSCTLS = /^(kernel\.(shmmax|shmall|shmmni|shm_rmid_forced|msgmax|msgmnb|msgmni|sem)|fs\.mqueue\.[a-z_]+)$/;

export function defaultCgroupParent(id: string): string {
  return `/skiff/pods/${id}`;
}

/** A cgroup parent under the /skiff subtree: relative paths are taken from /skiff, absolute ones must be in it. */
function cgroupParent(input: string | undefined, id: string, add: (path: string, message: string) => void): string {
  if (input === undefined) return defaultCgroupParent(id);
  const parts = input.split('/').filter((p) => p && p !== '.');
  if (parts.includes('..')) add('cgroupParent', `"${input}": ".." is not allowed`);
  const path = input.startsWith('/') ? `/${parts.join('/')}` : `/skiff/${parts.join('/')}`;
  if (!path.startsWith('/skiff/')) add('cgroupParent', `"${input}": skiff makes cgroups only under /skiff (give a relative path, or one under /skiff/)`);
  return path;
}

function sysctlProblem(key: string, value: string, share: { net: boolean; ipc: boolean }, network: string): string | undefined {
  if (typeof value !== 'string') return 'the value must be a string';
  if (key.startsWith('net.')) {
    if (network === 'host') return 'a host network pod has no network namespace of its own: the sysctl would change the host\'s';
    return share.net ? undefined : 'the pod does not share a network namespace';
  }
  if (IPC_SYSCTLS.test(key)) return share.ipc ? undefined : 'the pod does not share an ipc namespace';
  return 'not a namespaced sysctl a pod may set (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)';
}

export function podConfig(req: PodCreateRequest, id: string): PodRecord['config'] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const share = { pid: false, ipc: true, uts: true, net: true, ...req.share };
  const network = req.network || 'bridge';
  const publish = req.publish ?? [];
  if (publish.length && (network === 'host' || network === 'none')) add('publish', `ports cannot be published with network ${network}`);
  if (publish.length && !share.net) add('publish', 'ports belong to the pod\'s network namespace, which the pod does not share');
  for (const [i, p] of publish.entries()) {
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) add(`publish[${i}].containerPort`, `${p.containerPort} is not a port (1-65535)`);
    if (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535) add(`publish[${i}].hostPort`, `${p.hostPort} is not a port (0-65535)`);
    if (p.hostIP !== undefined && parseIPv4(p.hostIP) === undefined) add(`publish[${i}].hostIP`, `"${p.hostIP}" is not an IPv4 address`);
  }
  try {
    checkPortMappings(publish.filter((p) => p.hostPort).map((p) => ({ ...p, protocol: p.protocol as 'tcp' | 'udp' })));
  } catch (err) {
    add('publish', (err as Error).message.replace(/^-p: /, ''));
  }
  if (req.hostname !== undefined && !HOSTNAME.test(req.hostname)) add('hostname', `"${req.hostname}" is not a valid host name`);
  if (req.hostname !== undefined && !share.uts) add('hostname', 'the pod does not share a uts namespace, so it has no hostname of its own');
  if (network === 'host' && !share.net) add('share.net', 'a host network pod shares the host\'s network namespace');
  for (const [i, h] of (req.extraHosts ?? []).entries()) if (!parseExtraHost(h)) add(`extraHosts[${i}]`, `"${h}": expected host:ip`);
  for (const [key, value] of Object.entries(req.sysctls ?? {})) {
    const why = sysctlProblem(key, value, share, network);
    if (why) add(`sysctls.${key}`, why);
  }
  const r = req.resources ?? {};
  if (r.memory !== undefined && (!Number.isInteger(r.memory) || r.memory < MIN_MEMORY)) add('resources.memory', 'the minimum memory limit is 6MB');
  if (r.nanoCpus !== undefined && (!Number.isFinite(r.nanoCpus) || r.nanoCpus < 1e6)) add('resources.nanoCpus', 'at least 0.001 CPUs');
  if (r.pidsLimit !== undefined && !Number.isInteger(r.pidsLimit)) add('resources.pidsLimit', 'must be an integer');
  if (req.shmSize !== undefined && (!Number.isInteger(req.shmSize) || req.shmSize < 4096)) add('shmSize', 'at least 4 KiB');
  for (const [k, v] of Object.entries(req.cniArgs ?? {})) if (!/^[A-Za-z0-9_]+$/.test(k) || /[;=]/.test(v)) add(`cniArgs.${k}`, 'CNI_ARGS keys are letters, digits and _, values have no ; or =');
  const parent = cgroupParent(req.cgroupParent, id, add);
  if (problems.length) throw new ValidationError('pod create', problems);
  return {
    labels: req.labels ?? {}, annotations: req.annotations ?? {}, network, publish,
    dns: req.dns ?? { servers: [], searches: [], options: [] }, extraHosts: req.extraHosts ?? [], share,
    cgroupParent: parent, resources: r, sysctls: req.sysctls ?? {}, cniArgs: req.cniArgs ?? {},
    shmSize: req.shmSize ?? DEFAULT_SHM_SIZE, runtime: req.runtime ?? '', ...(req.hostname !== undefined ? { hostname: req.hostname } : {}),
  };
}
