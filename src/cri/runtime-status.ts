// Status: the two conditions the kubelet needs true before it calls the node ready. RuntimeReady: skiffd answers,
// so its runtime does. NetworkReady: a CNI network configuration is in the configured directory (the first file in
// name order is the pod network, as libcni and containerd choose it); a node without one gets pods only in the
// host's network namespace. With verbose, the configuration and what was found, as JSON values (crictl info).
import { loadNetworks } from '../network/cni/config.js';
import type { CriContext } from './context.js';
import type { StatusRequest__Output } from './proto/generated/runtime/v1/StatusRequest.js';
import type { StatusResponse } from './proto/generated/runtime/v1/StatusResponse.js';

export async function runtimeStatus(ctx: CriContext, req: StatusRequest__Output): Promise<StatusResponse> {
  const { cniConfDir, cniBinDirs } = ctx.config;
  const found = await loadNetworks(cniConfDir);
  const network = found.networks[0];
  const why = found.broken.length ? `: ${found.broken.map((b) => b.message).join('; ')}` : '';
  const conditions = [
    { type: 'RuntimeReady', status: true, reason: '', message: '' },
    network
      ? { type: 'NetworkReady', status: true, reason: '', message: '' }
      : { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `Network plugin returns error: no CNI network configuration in ${cniConfDir}${why}` },
  ];
  if (!req.verbose) return { status: { conditions } };
  const cni = {
    confDir: cniConfDir, binDirs: cniBinDirs, podNetwork: network ? { name: network.name, file: network.file, cniVersion: network.cniVersion } : null,
    broken: found.broken.map((b) => b.message), podCidrs: ctx.podCidrs.get(),
  };
  return { status: { conditions }, info: { config: JSON.stringify(ctx.config), cni: JSON.stringify(cni) } };
}
