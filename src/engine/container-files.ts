// /etc/hosts, /etc/resolv.conf and /etc/hostname of a container, written in its directory and bind-mounted over the
// image's, as docker does. resolv.conf is the host's with loopback name servers left out (they would be the
// container's own loopback); with none left, docker's fallback servers. Peers on a user network are added to
// /etc/hosts, which is rewritten in place (a bind mount pins the inode, so a rename would not be seen).
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

/** docker's defaults when the host has no usable name server (libnetwork resolvconf). */
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export interface ContainerFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

export function containerFiles(dir: string): ContainerFiles {
  return { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') };
}

export interface HostsEntry {
  ip: string;
  names: string[];
}

export function hostsFile(own: HostsEntry[], extra: HostsEntry[], peers: HostsEntry[] = []): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    ...[...own, ...extra, ...peers].map((e) => `${e.ip}\t${e.names.join(' ')}`),
  ];
  return lines.join('\n') + '\n';
}

/** --add-host host:ip (docker also accepts host=ip). */
export function parseExtraHost(spec: string): HostsEntry | undefined {
  const m = /^([^:=\s]+)[:=](\S+)$/.exec(spec);
  return m ? { ip: m[2], names: [m[1]] } : undefined;
}

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/** The host's resolv.conf, read once per start. */
export function hostDns(path = '/etc/resolv.conf'): DnsConfig {
  const out: DnsConfig = { servers: [], searches: [], options: [] };
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === 'nameserver' && values[0]) out.servers.push(values[0]);
    if (key === 'search' || key === 'domain') out.searches = values;
    if (key === 'options') out.options.push(...values);
  }
  return out;
}

/**
 * What the container's resolv.conf says: the user's --dns, --dns-search, --dns-option over the host's; on the
 * host's network the host's servers as they are, loopback ones included.
 */
export function resolvConf(host: DnsConfig, user: DnsConfig, hostNetwork: boolean): string {
  let servers = user.servers.length ? user.servers : host.servers;
  if (!hostNetwork) servers = servers.filter((s) => !isLoopback(s));
  if (!servers.length) servers = FALLBACK_NAMESERVERS;
  const searches = user.searches.length ? user.searches : host.searches;
  const options = user.options.length ? user.options : host.options;
  return [
    ...(searches.length ? [`search ${searches.join(' ')}`] : []),
    ...servers.map((s) => `nameserver ${s}`),
    ...(options.length ? [`options ${options.join(' ')}`] : []),
  ].join('\n') + '\n';
}

/** Writes into the existing file (keeping its inode: a running container sees the change through its bind mount). */
export async function rewriteInPlace(path: string, text: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(0);
    await fh.write(text, 0);
  } finally {
    await fh.close();
  }
}
