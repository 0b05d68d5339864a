// CNI results between spec versions (SPEC.md "Result"; conventions): 0.3.x and 0.4.0 tag each IP with
// "version", 1.0.0 and later drop it. Results are handed to the next plugin in the network's own version.
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string; mtu?: number }[];
  ips?: { version?: string; address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: Record<string, unknown>;
  [key: string]: unknown;
}

const major = (v: string) => Number(v.split('.')[0]);

export function convertResult(result: CniResult, to: string): CniResult {
  const ips = result.ips?.map((ip) => {
    const { version, ...rest } = ip;
    return major(to) >= 1 ? rest : { version: version ?? (ip.address.includes(':') ? '6' : '4'), ...rest };
  });
  return { ...result, cniVersion: to, ...(ips ? { ips } : {}) };
}
