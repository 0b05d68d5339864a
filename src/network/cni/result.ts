// CNI results between spec versions (SPEC.md "Section 5: Result Types", Documentation/spec-upgrades.md): 0.3.x and
// 0.4.0 tag each IP with "version", 1.0.0 and later drop it; 1.1.0 results have the same shape as 1.0.0 (plus
// optional fields older readers ignore). Results are handed on in the network's own version.
import { SkiffError } from '../../common/errors.js';

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
  mtu?: number;
  [key: string]: unknown;
}

export interface CniIp {
  version?: '4' | '6';
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: { dst: string; gw?: string; [key: string]: unknown }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [key: string]: unknown;
}

const major = (v: string) => Number(v.split('.')[0]);

/** A plugin's stdout as a result; the older 0.1/0.2 shape (ip4/ip6) is not convertible and says so. */
export function parseResult(out: Record<string, unknown>): CniResult {
  if (typeof out.cniVersion !== 'string') throw new SkiffError('result has no cniVersion', 'EPROTO');
  if (/^0\.[12]\./.test(out.cniVersion)) throw new SkiffError(`result version ${out.cniVersion} is older than 0.3.0 and not supported`, 'EPROTO');
  if (out.ips !== undefined && !Array.isArray(out.ips)) throw new SkiffError('result field ips is not a list', 'EPROTO');
  if (out.interfaces !== undefined && !Array.isArray(out.interfaces)) throw new SkiffError('result field interfaces is not a list', 'EPROTO');
  return out as CniResult;
}

export function convertResult(result: CniResult, to: string): CniResult {
  const ips = result.ips?.map((ip) => {
    const { version, ...rest } = ip;
    return major(to) >= 1 ? rest : { version: version ?? (ip.address.includes(':') ? '6' as const : '4' as const), ...rest };
  });
  return { ...result, cniVersion: to, ...(ips ? { ips } : {}) };
}
