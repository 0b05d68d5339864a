// A container's network for one run: a network namespace pinned under the state directory (so teardown finds it
// after the container's processes are gone, made with lo up), attached with CNI (the default bridge skiff0 or a
// named network, ports through portmap; --network none has only lo), detached and unpinned at stop. Idempotent
// both ways, and working from the CNI result cache alone after a crash or a reboot.
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { SkiffError } from '../common/errors.js';
import type { UndoStack } from '../common/undo.js';
import type { ExposedPort } from '../image/container-config.js';
import type { NetnsStore } from '../network/netns.js';
import { DEFAULT_NETWORK, type Networks } from '../network/networks.js';
import type { ContainerConfig, PortRequest } from './container-config.js';
import type { ContainerRecord, NetworkAttachment, PublishedPort } from './container-record.js';

export interface NetworkServices {
  networks: Networks;
  netns: NetnsStore;
}

export type RunNetwork = NonNullable<ContainerRecord['network']>;

export function networkName(mode: string): string {
  return mode === 'bridge' ? DEFAULT_NETWORK : mode;
}

/** A free port on the host (the kernel's choice), for -P and -p CTRPORT. */
async function freeHostPort(ip: string, protocol: PortRequest['protocol']): Promise<number> {
  if (protocol === 'udp') {
    const sock = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((res, rej) => { sock.once('error', rej); sock.bind(0, ip, () => res()); });
    const { port } = sock.address();
    sock.close();
    return port;
  }
  const srv = createServer();
  await new Promise<void>((res, rej) => { srv.once('error', rej); srv.listen(0, ip, () => res()); });
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** The ports to publish: -p as given, ports left to choose chosen, and with -P every port the image exposes. */
export async function publishedPorts(cfg: ContainerConfig, exposed: ExposedPort[]): Promise<PublishedPort[]> {
  const wanted: PortRequest[] = [...cfg.publish];
  if (cfg.publishAll) {
    for (const e of exposed) {
      if (!wanted.some((w) => w.containerPort === e.port && w.protocol === e.protocol)) wanted.push({ hostPort: 0, containerPort: e.port, protocol: e.protocol });
    }
  }
  const out: PublishedPort[] = [];
  for (const w of wanted) {
    const hostIP = w.hostIP ?? '0.0.0.0';
    out.push({ hostIP, hostPort: w.hostPort || await freeHostPort(hostIP, w.protocol), containerPort: w.containerPort, protocol: w.protocol });
  }
  return out;
}

export interface ConnectOptions {
  /** CNI_ARGS (a pod's K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID). */
  args?: Record<string, string>;
  /**
   * Work that needs only the pinned namespace, run while the plugins attach it (a pod's pause). Both end before
   * this returns, so a failure of either leaves every undo of both registered.
   */
  alongside?: (netns: string) => Promise<void>;
}

/**
 * Pins the namespace and attaches it; every step registers its undo. undefined for --network host (the host's) and
 * none (the container's own namespace, made with it and gone with it: nothing to attach or take down).
 */
export async function connectContainer(
  svc: NetworkServices, id: string, cfg: ContainerConfig, exposed: ExposedPort[], undo: UndoStack, opts: ConnectOptions = {},
): Promise<RunNetwork | undefined> {
  if (cfg.networkMode === 'host' || cfg.networkMode === 'none') return undefined;
  // A pin left by a run that was killed before its teardown: DEL first, then start afresh.
  if (existsSync(svc.netns.path(id))) await disconnectContainer(svc, id, undefined);
  const netns = await svc.netns.create(id);
  undo.push(`network namespace ${netns}`, () => svc.netns.remove(id));
  const network = networkName(cfg.networkMode);
  const ports = await publishedPorts(cfg, exposed);
  const portMappings = ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIP !== '0.0.0.0' ? { hostIP: p.hostIP } : {}) }));
  const args = opts.args;
  const [attached, beside] = await Promise.allSettled([
    svc.networks.attach(network, { containerId: id, netns, ifName: 'eth0', ...(args && Object.keys(args).length ? { args } : {}), runtimeConfig: portMappings.length ? { portMappings } : undefined }),
    opts.alongside?.(netns),
  ]);
  if (attached.status === 'rejected') {
    const err = attached.reason as SkiffError;
    throw new SkiffError(`--network ${cfg.networkMode}: ${err.message}`, err.code);
  }
  undo.push(`network ${network}`, () => svc.networks.detach(network, { containerId: id, netns, ifName: 'eth0' }));
  if (beside.status === 'rejected') throw beside.reason;
  const result = attached.value;
  const iface = result.interfaces?.find((i) => i.sandbox);
  const attachment: NetworkAttachment = {
    network, ifName: 'eth0', ips: (result.ips ?? []).map((ip) => ip.address),
    ...(result.ips?.[0]?.gateway ? { gateway: result.ips[0].gateway } : {}), ...(iface?.mac ? { mac: iface.mac } : {}),
  };
  return { netns, attachments: [attachment], ports };
}

/**
 * Detaches every network the container is attached to (from the CNI cache, so it works without the record's view
 * after a crash) and unpins its namespace. Idempotent.
 */
export async function disconnectContainer(svc: NetworkServices, id: string, run: RunNetwork | undefined): Promise<void> {
  const netns = run?.netns ?? svc.netns.path(id);
  const errors: string[] = [];
  const cached = await svc.networks.client.cache.list({ containerId: id });
  for (const c of cached.filter((a) => a.ifName !== 'lo')) {
    await svc.networks.detach(c.networkName, { containerId: id, netns, ifName: c.ifName }).catch((err: Error) => errors.push(err.message));
  }
  // A loopback attachment of an earlier version whose network's DEL did not take it along (Networks.detachLoopback).
  const left = await svc.networks.client.cache.list({ containerId: id });
  if (left.some((a) => a.ifName === 'lo')) await svc.networks.detachLoopback(id, netns).catch((err: Error) => errors.push(err.message));
  if (existsSync(svc.netns.path(id))) await svc.netns.remove(id).catch((err: Error) => errors.push(err.message));
  if (errors.length) throw new SkiffError(`network teardown of ${id.slice(0, 12)}: ${errors.join('; ')}`, 'ECNI');
}
