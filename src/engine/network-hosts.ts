// Containers on one user network reach each other by name: each running container's /etc/hosts lists the others
// on its networks (name and short ID), rewritten whenever one starts or stops there, as docker's embedded DNS
// answers for them. The default bridge gives no names, as docker's does not.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withLock } from '../common/lock.js';
import { DEFAULT_NETWORK } from '../network/networks.js';
import { containerFiles, hostsFile, parseExtraHost, rewriteInPlace, type HostsEntry } from './container-files.js';
import type { ContainerRecord } from './container-record.js';
import { containerHostname } from './container-spec.js';
import type { EngineContext } from './context.js';

function addressOn(rec: ContainerRecord, network: string): string | undefined {
  return rec.network?.attachments.find((a) => a.network === network)?.ips[0]?.split('/')[0];
}

function ownEntries(rec: ContainerRecord): HostsEntry[] {
  const ip = rec.network?.attachments[0]?.ips[0]?.split('/')[0];
  return ip ? [{ ip, names: [containerHostname(rec.config, rec.id)] }] : [];
}

/** The hosts file of `rec` with `others` (running containers) that share one of its user networks. */
export function hostsOf(rec: ContainerRecord, others: ContainerRecord[]): string {
  const extra = rec.config.extraHosts.map(parseExtraHost).filter((e): e is HostsEntry => e !== undefined);
  const peers: HostsEntry[] = [];
  for (const a of rec.network?.attachments ?? []) {
    if (a.network === DEFAULT_NETWORK) continue;
    for (const o of others) {
      const ip = o.id !== rec.id && addressOn(o, a.network);
      if (ip) peers.push({ ip, names: [...new Set([o.name, o.id.slice(0, 12), containerHostname(o.config, o.id)])] });
    }
  }
  return hostsFile(ownEntries(rec), extra, peers);
}

/** Rewrites the hosts file of every running container on `network` (a user network). */
export async function refreshNetworkHosts(ctx: EngineContext, network: string): Promise<void> {
  if (network === DEFAULT_NETWORK) return;
  const dir = join(ctx.paths.state, 'network-locks');
  await mkdir(dir, { recursive: true });
  await withLock(join(dir, network), `network ${network}`, async () => {
    const running = (await ctx.records.list()).filter((r) => r.state.status === 'running' && addressOn(r, network));
    for (const rec of running) {
      const file = containerFiles(ctx.paths.container(rec.id)).hosts;
      if (!rec.config.shared?.files && existsSync(file)) await rewriteInPlace(file, hostsOf(rec, running));
    }
  });
}
