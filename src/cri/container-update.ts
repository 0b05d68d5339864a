// UpdateContainerResources: new cpu and memory limits, applied to a running container's cgroup and kept for its
// record (the engine's update).
import type { CriContext } from './context.js';
import { criContainer } from './containers.js';
import { updatedResources } from './container-translate.js';
import { invalidArgument } from './grpc-error.js';
import { ownProcess } from './host-facts.js';
import type { UpdateContainerResourcesRequest__Output } from './proto/generated/runtime/v1/UpdateContainerResourcesRequest.js';
import type { UpdateContainerResourcesResponse } from './proto/generated/runtime/v1/UpdateContainerResourcesResponse.js';

export async function containerUpdate(ctx: CriContext, req: UpdateContainerResourcesRequest__Output): Promise<UpdateContainerResourcesResponse> {
  if (req.windows) throw invalidArgument('windows: Windows resources on Linux');
  const v = await criContainer(ctx, req.container_id);
  if (!req.linux) return {};
  const own = ownProcess();
  await ctx.engine.update(v.record.id, updatedResources(req.linux, { ...own, readFile: () => '' }));
  return {};
}
