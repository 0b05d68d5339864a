// Attach: a single-use URL of the streaming server (streaming/server.ts), where the client then attaches to the
// container's main process. The session runs when the client connects, through the streaming backend.
import type { CriContext } from './context.js';
import { pendingCall } from './pending.js';
import { criContainer } from './containers.js';
import { invalidArgument } from './grpc-error.js';
import type { AttachRequest__Output } from './proto/generated/runtime/v1/AttachRequest.js';
import type { AttachResponse } from './proto/generated/runtime/v1/AttachResponse.js';

export async function containerAttach(ctx: CriContext, req: AttachRequest__Output): Promise<AttachResponse> {
  if (!ctx.streaming) throw pendingCall('Attach');
  const v = await criContainer(ctx, req.container_id);
  if (v.status !== 'running') throw invalidArgument(`container ${v.record.id} is not running`);
  return { url: ctx.streaming.attachUrl(req) };
}
