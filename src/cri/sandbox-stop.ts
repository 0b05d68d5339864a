// StopPodSandbox: every container of the pod stopped, then its pause process and network; stopping a stopped or
// missing sandbox succeeds (the kubelet retries stops, and calls it after a removal too).
import { status } from '@grpc/grpc-js';
import type { CriContext } from './context.js';
import { CriError } from './grpc-error.js';
import type { StopPodSandboxRequest__Output } from './proto/generated/runtime/v1/StopPodSandboxRequest.js';
import type { StopPodSandboxResponse } from './proto/generated/runtime/v1/StopPodSandboxResponse.js';
import { sandboxOf } from './sandboxes-view.js';

export async function sandboxStop(ctx: CriContext, req: StopPodSandboxRequest__Output): Promise<StopPodSandboxResponse> {
  const pods = ctx.sandboxes;
  const pod = await sandboxOf(ctx, pods, req.pod_sandbox_id).catch((err: unknown) => {
    if (err instanceof CriError && err.code === status.NOT_FOUND) return undefined;
    throw err;
  });
  if (!pod) return {};
  for (const id of pod.containers) {
    const v = await ctx.engine.inspect(id).catch(() => undefined);
    if (v && (v.status === 'running' || v.status === 'paused')) {
      await ctx.engine.stop(id, 0);
      ctx.events.publish(id, 'CONTAINER_STOPPED_EVENT');
    }
  }
  await pods.stop(pod.id, 0);
  return {};
}
