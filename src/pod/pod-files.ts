// A pod's /etc/hosts, /etc/resolv.conf and /etc/hostname, written beside its record and bind-mounted into each of
// its containers (SharedWithPod.files). Written at create (a container can be created before the pod starts) and
// rewritten in place at each start, once the pod's address is known (a bind mount pins the inode).
import { existsSync, writeFileSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { containerFiles, hostDns, hostsFile, parseExtraHost, resolvConf, rewriteInPlace, type ContainerFiles } from '../engine/container-files.js';
import type { PodContext } from './pod-context.js';
import type { PodRecord } from './pod-types.js';

export function podFiles(pc: PodContext, id: string): ContainerFiles {
  return containerFiles(pc.paths.pod(id));
}

/** The name the pod's containers see: its own, else the pod's name; the host's on the host network without uts. */
export function podHostname(rec: PodRecord): string {
  if (rec.config.network === 'host' && !rec.config.share.uts) return hostHostname();
  return rec.config.hostname ?? rec.name;
}

export async function writePodFiles(pc: PodContext, rec: PodRecord, ip?: string): Promise<void> {
  const files = podFiles(pc, rec.id);
  const name = podHostname(rec);
  const own = ip ? [{ ip: ip.split('/')[0], names: [name] }] : [];
  const extra = rec.config.extraHosts.map((h) => parseExtraHost(h)!);
  const texts: [string, string][] = [
    [files.hosts, hostsFile(own, extra)],
    [files.resolvConf, resolvConf(hostDns(), rec.config.dns, rec.config.network === 'host')],
    [files.hostname, `${name}\n`],
  ];
  for (const [path, text] of texts) {
    if (existsSync(path)) await rewriteInPlace(path, text);
    else writeFileSync(path, text, { mode: 0o644 });
  }
}
