// StopPodSandbox: every container of the pod killed while its network is taken down, then its pause process and the
// rest; stopping a stopped or missing sandbox succeeds (the kubelet retries stops, and calls it after a removal too).
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
  const running: string[] = [];
  for (const id of pod.containers) {
    const v = await ctx.engine.inspect(id).catch(() => undefined);
    if (v && (v.status === 'running' || v.status === 'paused')) running.push(id);
  }
  // Killed by the pod's stop, beside its network's teardown.
  await pods.stop(pod.id, 0);
  for (const id of running) ctx.events.publish(id, 'CONTAINER_STOPPED_EVENT');
  return {};
}
