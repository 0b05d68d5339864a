// `-p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]`, as docker and podman spell a port mapping, into portmap's runtimeConfig.
import { SkiffError } from '../common/errors.js';
import { parseIPv4 } from './ipv4.js';
import type { PortMapping } from './networks.js';

export function parsePortMapping(spec: string): PortMapping {
  const m = /^(?:([\d.]+):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(spec);
  const ok = m && [m[2], m[3]].every((p) => Number(p) >= 1 && Number(p) <= 65535) && (m[1] === undefined || parseIPv4(m[1]) !== undefined);
  if (!ok) throw new SkiffError(`-p ${spec}: expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp], ports 1-65535`, 'EINVAL');
  return { hostPort: Number(m![2]), containerPort: Number(m![3]), protocol: (m![4] ?? 'tcp') as 'tcp' | 'udp', ...(m![1] ? { hostIP: m![1] } : {}) };
}

/** Two mappings of one host port and protocol cannot both work: the second DNAT rule would never match. */
export function checkPortMappings(mappings: PortMapping[]): void {
  const seen = new Set<string>();
  for (const p of mappings) {
    const key = `${p.hostIP ?? '0.0.0.0'}:${p.hostPort}/${p.protocol}`;
    if (seen.has(key)) throw new SkiffError(`-p: host port ${key} is mapped twice`, 'EINVAL');
    seen.add(key);
  }
}
