// StartContainer: a created container's process started under its monitor (the engine's start).
import type { CriContext } from './context.js';
import { criContainer } from './containers.js';
import { invalidArgument } from './grpc-error.js';
import type { StartContainerRequest__Output } from './proto/generated/runtime/v1/StartContainerRequest.js';
import type { StartContainerResponse } from './proto/generated/runtime/v1/StartContainerResponse.js';

export async function containerStart(ctx: CriContext, req: StartContainerRequest__Output): Promise<StartContainerResponse> {
  const v = await criContainer(ctx, req.container_id);
  // The CRI starts a container once (containerd: "container is in CONTAINER_RUNNING state"); the kubelet makes a new one.
  if (v.status !== 'created') throw invalidArgument(`container ${v.record.id} is not in CONTAINER_CREATED state`);
  await ctx.engine.start(v.record.id);
  ctx.events.publish(v.record.id, 'CONTAINER_STARTED_EVENT');
  return {};
}
