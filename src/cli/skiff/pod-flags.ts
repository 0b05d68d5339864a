// skiff pod create's flags (also what `skiff run --pod new:NAME` gives the new pod), checked here and turned into
// the pod layer's PodCreateRequest. As podman does, ports (-p) belong to the pod.
import { Option, type Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import type { PodCreateRequest, PodShare } from '../../pod/pods.js';
import { parseBytes, parsePublish } from './container-flags.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const SHAREABLE = ['net', 'ipc', 'uts', 'pid'] as const;

export interface PodFlags {
  name?: string;
  hostname?: string;
  publish: string[];
  network: string;
  share?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
  label: string[];
  cgroupParent?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  shmSize?: string;
  sysctl: string[];
}

export function podOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'the pod\'s name')
    .option('--hostname <name>', 'the hostname its containers see (default: the pod\'s name)')
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', 'publish a port of the pod (repeatable)', collect, [])
    .option('--network <mode>', 'bridge (default), host, none or a network name', 'bridge')
    .option('--share <namespaces>', 'namespaces its containers share, from net,ipc,uts,pid (default net,ipc,uts)')
    .option('--dns <ip>', 'a DNS server for /etc/resolv.conf (repeatable)', collect, [])
    .option('--dns-search <domain>', 'a DNS search domain (repeatable)', collect, [])
    .option('--dns-option <option>', 'a DNS option (repeatable)', collect, [])
    .option('--add-host <host:ip>', 'a line for /etc/hosts (repeatable)', collect, [])
    .option('-l, --label <key=value>', 'a label (repeatable)', collect, [])
    .option('--cgroup-parent <path>', 'the cgroup its containers go under (relative, or under /skiff/)')
    .option('-m, --memory <bytes>', 'memory limit of the whole pod (e.g. 256m)')
    .option('--cpus <number>', 'CPUs of the whole pod (e.g. 1.5)')
    .option('--pids-limit <n>', 'processes of the whole pod at most')
    .option('--shm-size <bytes>', 'size of the pod\'s /dev/shm (default 64m)')
    .addOption(new Option('--sysctl <key=value>', 'a namespaced sysctl: net.* or kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* (repeatable)').argParser(collect).default([]));
}

function keyValues(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new SkiffError(`${flag} ${v}: expected KEY=VALUE`, 'EINVAL');
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function parseShare(input: string | undefined): PodShare | undefined {
  if (input === undefined) return undefined;
  const names = input.split(',').map((s) => s.trim()).filter(Boolean);
  const share: PodShare = { net: false, ipc: false, uts: false, pid: false };
  for (const n of names) {
    if (!(SHAREABLE as readonly string[]).includes(n)) throw new SkiffError(`--share ${input}: "${n}" is not one of ${SHAREABLE.join(', ')}`, 'EINVAL');
    share[n as keyof PodShare] = true;
  }
  return share;
}

export function podRequest(f: PodFlags, name = f.name): PodCreateRequest {
  const req: PodCreateRequest = {
    name, network: f.network, publish: f.publish.map(parsePublish), extraHosts: f.addHost,
    labels: keyValues(f.label.map((l) => (l.includes('=') ? l : `${l}=`)), '--label'), sysctls: keyValues(f.sysctl, '--sysctl'),
  };
  if (f.hostname !== undefined) req.hostname = f.hostname;
  const share = parseShare(f.share);
  if (share) req.share = share;
  if (f.dns.length || f.dnsSearch.length || f.dnsOption.length) req.dns = { servers: f.dns, searches: f.dnsSearch, options: f.dnsOption };
  if (f.cgroupParent !== undefined) req.cgroupParent = f.cgroupParent;
  const resources: NonNullable<PodCreateRequest['resources']> = {};
  if (f.memory !== undefined) resources.memory = parseBytes(f.memory, '--memory');
  if (f.cpus !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(f.cpus) || Number(f.cpus) <= 0) throw new SkiffError(`--cpus ${f.cpus}: expected a positive number`, 'EINVAL');
    resources.nanoCpus = Math.round(Number(f.cpus) * 1e9);
  }
  if (f.pidsLimit !== undefined) {
    if (!/^-?\d+$/.test(f.pidsLimit)) throw new SkiffError(`--pids-limit ${f.pidsLimit}: expected an integer`, 'EINVAL');
    resources.pidsLimit = Number(f.pidsLimit);
  }
  if (Object.keys(resources).length) req.resources = resources;
  if (f.shmSize !== undefined) req.shmSize = parseBytes(f.shmSize, '--shm-size');
  return req;
}
