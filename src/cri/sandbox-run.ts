// RunPodSandbox: the pod made (sandbox-translate.ts) and its pause process and network started; a start that fails
// removes the pod again, so nothing is left behind.
import { loadNetworks } from '../network/cni/config.js';
import type { CriContext } from './context.js';
import type { RunPodSandboxRequest__Output } from './proto/generated/runtime/v1/RunPodSandboxRequest.js';
import type { RunPodSandboxResponse } from './proto/generated/runtime/v1/RunPodSandboxResponse.js';
import { translateSandbox } from './sandbox-translate.js';

export async function sandboxRun(ctx: CriContext, req: RunPodSandboxRequest__Output): Promise<RunPodSandboxResponse> {
  const pods = ctx.sandboxes;
  const network = (await loadNetworks(ctx.config.cniConfDir)).networks[0]?.name;
  const podReq = translateSandbox(req.config, req.runtime_handler, Object.keys(ctx.config.runtimeHandlers), network, ctx.config.cgroupParent);
  const pod = await pods.create(podReq);
  try {
    await pods.startSandbox(pod.id);
  } catch (err) {
    await pods.remove(pod.id, { force: true }).catch((e: Error) => ctx.log.warn({ pod: pod.id, err: e.message }, 'removing a sandbox that failed to start'));
    throw err;
  }
  return { pod_sandbox_id: pod.id };
}
