// skiff's networks: CNI configurations in skiff's own directory (plus the system's /etc/cni/net.d), the default
// bridge network skiff0 written on first use, and attaching a network namespace to a network with the CNI client.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { CniClient, type Attachment, type CniClientOptions } from './cni/client.js';
import { findNetwork, loadNetworks, parseNetworkConfig, type NetworkConfigList } from './cni/config.js';
import type { CniResult } from './cni/result.js';
import { DEFAULT_PLUGIN_DIRS } from './cni/plugin-exec.js';

export const DEFAULT_NETWORK = 'skiff0';
export const DEFAULT_SUBNET = '10.89.0.0/16';
export const SYSTEM_CONF_DIR = '/etc/cni/net.d';

export interface NetworkOptions {
  /** skiff's persistent root (default /var/lib/skiff): its networks, IPAM state and result cache live there. */
  root: string;
  /** Other config dirs searched after skiff's own (default /etc/cni/net.d). */
  extraConfDirs?: string[];
  pluginDirs?: string[];
  /** Called after each plugin process with its wall time (see CniClientOptions). */
  onPluginCall?: CniClientOptions['onPluginCall'];
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

export interface CreateNetwork {
  name: string;
  driver: 'bridge' | 'macvlan' | 'ipvlan';
  subnet: string;
  gateway?: string;
  /** Bridge name (bridge) or host interface (macvlan, ipvlan). */
  device?: string;
}

/** "10.89.0.0/16" -> "10.89.0.1": the first host address, the usual gateway. */
function firstHost(subnet: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(subnet);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 30) {
    throw new SkiffError(`--subnet: "${subnet}" is not an IPv4 subnet like 10.89.0.0/16 (prefix at most /30)`, 'EINVAL');
  }
  const n = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0) + 1;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export class Networks {
  readonly confDir: string;
  readonly client: CniClient;
  private readonly ipamDir: string;

  constructor(private readonly opts: NetworkOptions) {
    this.confDir = join(opts.root, 'cni', 'net.d');
    this.ipamDir = join(opts.root, 'cni', 'ipam');
    this.client = new CniClient({
      pluginDirs: opts.pluginDirs ?? DEFAULT_PLUGIN_DIRS, cacheDir: join(opts.root, 'cni', 'cache'), onPluginCall: opts.onPluginCall,
    });
  }

  private confDirs(): string[] {
    return [this.confDir, ...(this.opts.extraConfDirs ?? [SYSTEM_CONF_DIR])];
  }

  async list(): Promise<NetworkConfigList[]> {
    const seen = new Set<string>();
    const out: NetworkConfigList[] = [];
    for (const dir of this.confDirs()) {
      for (const n of await loadNetworks(dir)) if (!seen.has(n.name)) { seen.add(n.name); out.push(n); }
    }
    return out;
  }

  async get(name: string): Promise<NetworkConfigList> {
    if (name === DEFAULT_NETWORK) await this.ensureDefault();
    return findNetwork(this.confDirs(), name);
  }

  /** The bridge network skiff0, written the first time it is needed unless one is configured. */
  async ensureDefault(): Promise<void> {
    if ((await this.list()).some((n) => n.name === DEFAULT_NETWORK)) return;
    await this.create({ name: DEFAULT_NETWORK, driver: 'bridge', subnet: DEFAULT_SUBNET, device: DEFAULT_NETWORK });
  }

  /** Writes a conflist: the main plugin with host-local IPAM, then portmap for port mappings. */
  async create(c: CreateNetwork): Promise<NetworkConfigList> {
    if ((await this.list()).some((n) => n.name === c.name)) throw new SkiffError(`network "${c.name}" already exists`, 'EEXIST');
    const gateway = c.gateway ?? firstHost(c.subnet);
    const ipam = {
      type: 'host-local',
      ranges: [[{ subnet: c.subnet, gateway }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: this.ipamDir,
    };
    let main: Record<string, unknown>;
    if (c.driver === 'bridge') {
      main = { type: 'bridge', bridge: c.device ?? `skiff-${c.name}`.slice(0, 15), isGateway: true, ipMasq: true, hairpinMode: true, ipam };
    } else {
      if (!c.device) throw new SkiffError(`--parent: a ${c.driver} network needs the host interface it sits on`, 'EINVAL');
      main = { type: c.driver, master: c.device, ...(c.driver === 'macvlan' ? { mode: 'bridge' } : { mode: 'l2' }), ipam };
    }
    const list = { cniVersion: '1.0.0', name: c.name, plugins: [main, { type: 'portmap', capabilities: { portMappings: true }, snat: true }] };
    const file = join(this.confDir, `${c.name}.conflist`);
    const parsed = parseNetworkConfig(JSON.stringify(list), file);
    await mkdir(this.confDir, { recursive: true });
    await writeFile(file, JSON.stringify(list, null, 2));
    return parsed;
  }

  /** Removes a network skiff created (the system's own configs are not ours to delete). */
  async remove(name: string): Promise<void> {
    const net = await findNetwork(this.confDirs(), name);
    if (!net.file.startsWith(this.confDir + '/')) throw new SkiffError(`network "${name}" is configured in ${net.file}, not by skiff`, 'EPERM');
    await rm(net.file);
  }

  /** Attaches a network namespace: loopback up, then the network's plugins (ADD), cached for the DEL. */
  async attach(name: string, a: Attachment & { portMappings?: PortMapping[] }): Promise<CniResult> {
    const net = await this.get(name);
    await this.client.add(LOOPBACK, { ...a, ifName: 'lo' });
    try {
      const capabilityArgs = { ...a.capabilityArgs, ...(a.portMappings?.length ? { portMappings: a.portMappings } : {}) };
      return await this.client.add(net, { ...a, capabilityArgs });
    } catch (err) {
      await this.client.del(LOOPBACK, { ...a, ifName: 'lo' }).catch(() => {});
      throw err;
    }
  }

  async detach(name: string, a: Attachment): Promise<void> {
    const net = await this.get(name);
    await this.client.del(net, a);
    await this.client.del(LOOPBACK, { ...a, ifName: 'lo' });
  }
}

const LOOPBACK: NetworkConfigList = { cniVersion: '1.0.0', name: 'skiff-loopback', plugins: [{ type: 'loopback' }], file: '(built in)' };
