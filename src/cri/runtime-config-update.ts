// UpdateRuntimeConfig: the kubelet hands over the node's pod CIDR (two, comma-separated, on a dual-stack node) once
// the node has one. It is kept for the pod network; an empty one changes nothing ("runtimes should omit it").
import { isIP } from 'node:net';
import type { CriContext } from './context.js';
import { invalidArgument } from './grpc-error.js';
import type { UpdateRuntimeConfigRequest__Output } from './proto/generated/runtime/v1/UpdateRuntimeConfigRequest.js';
import type { UpdateRuntimeConfigResponse } from './proto/generated/runtime/v1/UpdateRuntimeConfigResponse.js';

function isCidr(text: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const family = m ? isIP(m[1]) : 0;
  return family !== 0 && Number(m![2]) <= (family === 4 ? 32 : 128);
}

export async function runtimeConfigUpdate(ctx: CriContext, req: UpdateRuntimeConfigRequest__Output): Promise<UpdateRuntimeConfigResponse> {
  const text = req.runtime_config?.network_config?.pod_cidr ?? '';
  if (!text) return {};
  const cidrs = text.split(',').map((c) => c.trim());
  const bad = cidrs.find((c) => !isCidr(c));
  if (bad !== undefined) throw invalidArgument(`runtime_config.network_config.pod_cidr: "${bad}" is not a CIDR (e.g. 10.244.1.0/24)`);
  if (cidrs.join(',') !== ctx.podCidrs.get().join(',')) {
    await ctx.podCidrs.set(cidrs);
    ctx.log.info({ podCidrs: cidrs }, 'pod CIDR updated');
  }
  return {};
}
