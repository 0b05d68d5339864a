// skiff's networks: CNI configurations in skiff's own directory (then the system's /etc/cni/net.d), the default
// bridge network skiff0 written on first use, and attaching a network namespace to a network with the CNI client.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { SkiffError } from '../common/errors.js';
import type { CachedAttachment } from './cni/cache.js';
import { CniClient, type Attachment, type CniClientOptions } from './cni/client.js';
import type { RuntimeConfig } from './cni/runtime-config.js';
import { findNetwork, loadNetworks, NETWORK_NAME, parseNetworkConfig, type NetworkConfigList } from './cni/config.js';
import { DEFAULT_PLUGIN_DIRS } from './cni/plugin-exec.js';
import { ensureMasquerade, removeMasquerade, type Masquerade } from './masquerade.js';
import type { CniResult } from './cni/result.js';
import { broadcast, contains, formatIPv4, formatSubnet, overlaps, parseIPv4, parseSubnet, type Subnet } from './ipv4.js';

export const DEFAULT_NETWORK = 'skiff0';
/** Podman uses 10.88.0.0/16; skiff's default network takes the next one. */
export const DEFAULT_SUBNET = '10.89.0.0/16';
export const SYSTEM_CONF_DIR = '/etc/cni/net.d';

export interface NetworkOptions {
  /** skiff's persistent root (default /var/lib/skiff): its networks and the result cache live there. */
  root: string;
  /**
   * skiff's runtime state (default /run/skiff, a tmpfs): host-local's address allocations live there, so they go
   * at a reboot with the namespaces they were for (in /var/lib they would stay reserved, a known CNI leak).
   */
  state: string;
  /** Other config dirs searched after skiff's own (default /etc/cni/net.d). */
  extraConfDirs?: string[];
  pluginDirs?: string[];
  timeoutMs?: number;
  /** Host fact: iptables' FORWARD policy is ACCEPT (detected when not given; see forwardPolicyAccepts). */
  forwardAccepts?: boolean;
  /** Called after each plugin process with its wall time (see CniClientOptions). */
  onPluginCall?: CniClientOptions['onPluginCall'];
}

export type PortMapping = NonNullable<RuntimeConfig['portMappings']>[number];

export interface CreateNetwork {
  name: string;
  driver: 'bridge' | 'macvlan' | 'ipvlan';
  subnet: string;
  gateway?: string;
  /** Bridge name (bridge; default skiff-NAME) or host interface (macvlan, ipvlan; required). */
  device?: string;
}

export interface NetworkInfo {
  config: NetworkConfigList;
  attachments: { containerId: string; ifName: string; netns: string; ips: string[] }[];
}

const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

/**
 * skiff-NAME, or where that is longer than an interface name may be (IFNAMSIZ, 15 characters), skiff- and a hash of
 * the name: a cut name would give two networks one bridge.
 */
export function bridgeNameFor(name: string): string {
  const plain = `skiff-${name}`;
  return plain.length <= 15 ? plain : `skiff-${createHash('sha256').update(name).digest('hex').slice(0, 9)}`;
}

/**
 * Whether the host forwards packets without rules of ours: iptables' FORWARD chain policy ACCEPT (a host with
 * docker has DROP, and then the firewall plugin must add ACCEPT rules for the network's addresses).
 */
function forwardPolicyAccepts(): boolean {
  const rules = execFileSync('iptables', ['-w', '-S', 'FORWARD'], { encoding: 'utf8' });
  return /^-P FORWARD ACCEPT$/m.test(rules);
}

/** The host-local subnets a network hands out (ipam.ranges or the older ipam.subnet). */
function subnetsOf(net: NetworkConfigList): Subnet[] {
  const texts = net.plugins.flatMap((p) => {
    const ipam = p.ipam as { ranges?: { subnet?: unknown }[][]; subnet?: unknown } | undefined;
    return [...(Array.isArray(ipam?.ranges) ? ipam.ranges.flat().map((r) => r?.subnet) : []), ipam?.subnet];
  });
  return texts.map((t) => (typeof t === 'string' ? parseSubnet(t, true) : undefined)).filter((s): s is Subnet => typeof s === 'object');
}

/** What masquerade.ts needs for a network that asks skiff to masquerade it. */
function masqueradeOf(net: NetworkConfigList): Masquerade | undefined {
  return net.skiffMasquerade ? { network: net.name, subnets: subnetsOf(net).map(formatSubnet) } : undefined;
}

export class Networks {
  readonly confDir: string;
  readonly client: CniClient;
  private readonly ipamDir: string;

  constructor(private readonly opts: NetworkOptions) {
    this.confDir = join(opts.root, 'cni', 'net.d');
    this.ipamDir = join(opts.state, 'cni', 'ipam');
    this.client = new CniClient({
      pluginDirs: opts.pluginDirs ?? DEFAULT_PLUGIN_DIRS, cacheDir: join(opts.root, 'cni', 'cache'),
      timeoutMs: opts.timeoutMs, onPluginCall: opts.onPluginCall,
    });
  }

  private confDirs(): string[] {
    return [this.confDir, ...(this.opts.extraConfDirs ?? [SYSTEM_CONF_DIR])];
  }

  /** Every network, skiff's own first (a name defined twice: the first wins, as in libcni's file order). */
  async list(): Promise<{ networks: NetworkConfigList[]; broken: SkiffError[] }> {
    const seen = new Set<string>();
    const out = { networks: [] as NetworkConfigList[], broken: [] as SkiffError[] };
    for (const dir of this.confDirs()) {
      const loaded = await loadNetworks(dir);
      out.broken.push(...loaded.broken);
      for (const n of loaded.networks) if (!seen.has(n.name)) { seen.add(n.name); out.networks.push(n); }
    }
    return out;
  }

  async get(name: string): Promise<NetworkConfigList> {
    if (name === DEFAULT_NETWORK) await this.ensureDefault();
    return findNetwork(this.confDirs(), name);
  }

  async inspect(name: string): Promise<NetworkInfo> {
    const config = await this.get(name);
    const attachments = (await this.client.cache.list({ network: name })).map((a: CachedAttachment) => ({
      containerId: a.containerId, ifName: a.ifName, netns: a.netns, ips: (a.result?.ips ?? []).map((ip) => ip.address),
    }));
    return { config, attachments };
  }

  /** The bridge network skiff0, written the first time it is needed unless one is configured. */
  async ensureDefault(): Promise<void> {
    const exists = async () => (await this.list()).networks.some((n) => n.name === DEFAULT_NETWORK);
    if (await exists()) return;
    try {
      await this.create({ name: DEFAULT_NETWORK, driver: 'bridge', subnet: DEFAULT_SUBNET, device: DEFAULT_NETWORK });
    } catch (err) {
      // Another skiff process wrote it first (the file is written atomically, so it is whole).
      if (!(await exists())) throw err;
    }
  }

  /** Checks a new network against the flags' rules, the other networks' subnets and the host's addresses. */
  private async validate(c: CreateNetwork): Promise<{ subnet: Subnet; gateway: string; device: string }> {
    const problems: string[] = [];
    if (!NETWORK_NAME.test(c.name)) problems.push(`name "${c.name}": use letters, digits, _ . - (not starting with . or -)`);
    const parsed = parseSubnet(c.subnet);
    if (typeof parsed === 'string') problems.push(`--subnet: ${parsed}`);
    else if (parsed.prefix > 30) problems.push(`--subnet: /${parsed.prefix} leaves no room for a gateway and an address (at most /30)`);
    const subnet = typeof parsed === 'string' ? undefined : parsed;
    let gateway = '';
    if (subnet) {
      const gw = c.gateway === undefined ? subnet.network + 1 : parseIPv4(c.gateway);
      if (gw === undefined) problems.push(`--gateway: "${c.gateway}" is not an IPv4 address`);
      else if (!contains(subnet, gw) || gw === subnet.network || gw === broadcast(subnet)) problems.push(`--gateway: ${formatIPv4(gw)} is not a host address of ${c.subnet}`);
      else gateway = formatIPv4(gw);
    }
    const device = c.device ?? (c.driver === 'bridge' ? bridgeNameFor(c.name) : '');
    if (c.driver === 'bridge' && !IFNAME.test(device)) problems.push(`--bridge: "${device}" is not an interface name (1-15 of letters, digits, _ . -)`);
    if (c.driver !== 'bridge') {
      if (!device) problems.push(`--parent: a ${c.driver} network needs the host interface it sits on`);
      else if (!IFNAME.test(device) || !existsSync(`/sys/class/net/${device}`)) problems.push(`--parent: no host interface "${device}"`);
    }
    const { networks } = await this.list();
    if (networks.some((n) => n.name === c.name)) problems.push(`name: network "${c.name}" already exists`);
    if (c.driver === 'bridge' && IFNAME.test(device)) {
      const sharing = networks.find((n) => n.plugins.some((p) => p.type === 'bridge' && p.bridge === device));
      if (sharing) problems.push(`--bridge: ${device} is the bridge of network ${sharing.name}`);
      else if (existsSync(`/sys/class/net/${device}`) && !existsSync(`/sys/class/net/${device}/bridge`)) problems.push(`--bridge: host interface ${device} exists and is not a bridge`);
    }
    if (subnet) {
      for (const n of networks) {
        const clash = subnetsOf(n).find((s) => overlaps(s, subnet));
        if (clash) problems.push(`--subnet: ${c.subnet} overlaps network ${n.name}'s ${formatSubnet(clash)}`);
      }
      for (const [ifname, addrs] of Object.entries(networkInterfaces())) {
        if (ifname === device && c.driver === 'bridge') continue; // a bridge left from an earlier network of this name
        for (const a of addrs ?? []) {
          const ours = a.family === 'IPv4' ? parseSubnet(a.cidr ?? '', true) : undefined;
          if (ours && typeof ours !== 'string' && overlaps(ours, subnet)) problems.push(`--subnet: ${c.subnet} overlaps ${a.cidr} on host interface ${ifname}`);
        }
      }
    }
    if (problems.length) throw new SkiffError(`network create ${c.name}: ${problems.join('; ')}`, 'EINVAL');
    return { subnet: subnet!, gateway, device };
  }

  /**
   * Writes a conflist: the main plugin with host-local IPAM (static addresses on request), then portmap
   * for port mappings, and firewall only where the host's FORWARD policy drops (it costs ~60 ms per ADD+DEL here).
   */
  async create(c: CreateNetwork): Promise<NetworkConfigList> {
    const { subnet, gateway, device } = await this.validate(c);
    const ipam = {
      type: 'host-local',
      ranges: [[{ subnet: formatSubnet(subnet), gateway }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: this.ipamDir,
    };
    const main = c.driver === 'bridge'
      // Traffic from the subnet leaving it is masqueraded (its source becomes the host's address) by skiff's rule
      // for the subnet (skiffMasquerade), not by the plugin's ipMasq, which makes rules per container.
      // (Debian's bridge plugin, 1.1.1, ignores runtimeConfig.mac, so the bridge does not declare mac.)
      ? { type: 'bridge', bridge: device, isGateway: true, ipMasq: false, hairpinMode: true, capabilities: { ips: true }, ipam }
      : c.driver === 'macvlan'
        ? { type: 'macvlan', master: device, mode: 'bridge', capabilities: { ips: true, mac: true }, ipam }
        : { type: 'ipvlan', master: device, mode: 'l2', capabilities: { ips: true }, ipam };
    const list = {
      cniVersion: '1.0.0', name: c.name,
      ...(c.driver === 'bridge' ? { skiffMasquerade: true } : {}),
      plugins: [
        main,
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        ...((this.opts.forwardAccepts ?? forwardPolicyAccepts()) ? [] : [{ type: 'firewall' }]),
      ],
    };
    const file = join(this.confDir, `${c.name}.conflist`);
    const parsed = parseNetworkConfig(JSON.stringify(list), file);
    await mkdir(this.confDir, { recursive: true });
    await writeFileAtomic(file, JSON.stringify(list, null, 2) + '\n');
    return parsed;
  }

  /** Removes a network skiff created (the system's own configs are not ours to delete) that nothing is attached to. */
  async remove(name: string): Promise<void> {
    const net = await findNetwork(this.confDirs(), name);
    if (!net.file.startsWith(this.confDir + '/')) throw new SkiffError(`network rm ${name}: it is configured in ${net.file}, not by skiff`, 'EPERM');
    const attached = await this.client.cache.list({ network: name });
    if (attached.length) {
      throw new SkiffError(`network rm ${name}: still attached to ${attached.map((a) => `${a.containerId}/${a.ifName}`).join(', ')} (detach first)`, 'EBUSY');
    }
    await rm(net.file);
    const masquerade = masqueradeOf(net);
    if (masquerade) await removeMasquerade(masquerade);
    // The bridge the bridge plugin made for this network goes with it, as docker's does.
    const bridge = net.plugins.find((p) => p.type === 'bridge')?.bridge;
    if (typeof bridge === 'string' && IFNAME.test(bridge) && existsSync(`/sys/class/net/${bridge}/bridge`)) {
      execFileSync('ip', ['link', 'delete', 'dev', bridge, 'type', 'bridge']);
    }
  }

  /**
   * Attaches a network namespace: the network's plugins (ADD), cached for the DEL. lo is not theirs: a namespace
   * skiff makes has it up already (NetnsStore.create), and one made elsewhere keeps it as it is, as with cnitool.
   */
  async attach(name: string, a: Attachment): Promise<CniResult> {
    const net = await this.get(name);
    const undeclared = CniClient.undeclared(net, a.runtimeConfig);
    if (undeclared.length) {
      throw new SkiffError(`network ${name} (${net.file}): no plugin declares the capabilit${undeclared.length > 1 ? 'ies' : 'y'} ${undeclared.join(', ')}, so the value would be ignored`, 'EINVAL');
    }
    if (await this.client.cache.get(net.name, a.containerId, a.ifName)) {
      throw new SkiffError(`network ${net.name}: ${a.containerId} is already attached as ${a.ifName} (detach it first)`, 'EEXIST');
    }
    const masquerade = masqueradeOf(net);
    if (masquerade) await ensureMasquerade(masquerade, join(this.opts.state, 'cni', 'masquerade.lock'));
    return this.client.add(net, a);
  }

  /** DEL, idempotent; when the network's file is gone, with the configuration cached at attach. */
  async detach(name: string, a: Pick<Attachment, 'containerId' | 'netns' | 'ifName'>): Promise<void> {
    let net: NetworkConfigList;
    try {
      net = await this.get(name);
    } catch (err) {
      const cached = await this.client.cachedConfig(name, a.containerId, a.ifName);
      if (!cached) throw err;
      net = cached;
    }
    await this.client.del(net, a);
    const left = await this.client.cache.list({ containerId: a.containerId });
    if (left.length === 1 && left[0].networkName === LOOPBACK.name) await this.detachLoopback(a.containerId, a.netns);
  }

  /**
   * DEL of the loopback attachment that skiff made with the CNI loopback plugin beside every network before
   * namespaces came with lo up: a container attached then still has it in the cache. Idempotent.
   */
  async detachLoopback(containerId: string, netns: string): Promise<void> {
    await this.client.del(LOOPBACK, { containerId, netns, ifName: 'lo' });
  }

  /** CHECK: the attachment is still as its cached result says. */
  async check(name: string, a: Pick<Attachment, 'containerId' | 'netns' | 'ifName'>): Promise<void> {
    await this.client.check(await this.get(name), a);
  }

  /** GC: releases everything the network holds for attachments other than `valid`. */
  async gc(name: string, valid: { containerId: string; ifName: string }[]): Promise<void> {
    await this.client.gc(await this.get(name), valid);
  }
}

/** The loopback attachment of earlier versions (detachLoopback), as it was cached. */
const LOOPBACK: NetworkConfigList = { cniVersion: '1.0.0', name: 'skiff-loopback', plugins: [{ type: 'loopback' }], file: '(built in)' };
