// ReopenContainerLog: after the kubelet renamed a container's log (rotation), its monitor closes it and opens a
// new file at log_path (monitor-client reopenLog).
import type { CriContext } from './context.js';
import { criContainer } from './containers.js';
import { invalidArgument } from './grpc-error.js';
import type { ReopenContainerLogRequest__Output } from './proto/generated/runtime/v1/ReopenContainerLogRequest.js';
import type { ReopenContainerLogResponse } from './proto/generated/runtime/v1/ReopenContainerLogResponse.js';

export async function containerLogReopen(ctx: CriContext, req: ReopenContainerLogRequest__Output): Promise<ReopenContainerLogResponse> {
  const v = await criContainer(ctx, req.container_id);
  if (v.status !== 'running') throw invalidArgument(`container ${v.record.id} is not running`);
  await ctx.engine.reopenLog(v.record.id);
  return {};
}
