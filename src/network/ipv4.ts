// IPv4 addresses and subnets as numbers, for checking what `skiff network create` is given.
export interface Subnet {
  network: number;
  prefix: number;
}

export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return undefined;
  return m.slice(1).reduce((a, o) => a * 256 + Number(o), 0);
}

export const formatIPv4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** "10.89.0.0/16"; `address` keeps host bits (an interface's "10.89.0.1/16"), otherwise they are an error. */
export function parseSubnet(text: string, address = false): Subnet | string {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const ip = m ? parseIPv4(m[1]) : undefined;
  if (!m || ip === undefined || Number(m[2]) > 32) return `"${text}" is not an IPv4 subnet like 10.89.0.0/16`;
  const prefix = Number(m[2]);
  const network = (ip & mask(prefix)) >>> 0;
  if (!address && network !== ip) return `"${text}" has host bits set (the subnet is ${formatIPv4(network)}/${prefix})`;
  return { network, prefix };
}

export const formatSubnet = (s: Subnet) => `${formatIPv4(s.network)}/${s.prefix}`;

export const contains = (s: Subnet, ip: number) => ((ip & mask(s.prefix)) >>> 0) === s.network;

export const overlaps = (a: Subnet, b: Subnet) => contains(a, b.network) || contains(b, a.network);

export const broadcast = (s: Subnet) => (s.network | ~mask(s.prefix)) >>> 0;
