// Exec: a single-use URL of the streaming server (streaming/server.ts), where the client then runs a command in
// the container. The session runs when the client connects, through the streaming backend. (With the engine, the
// container must exist and run first: NOT_FOUND otherwise, as containerd.)
import type { CriContext } from './context.js';
import { pendingCall } from './pending.js';
import { criContainer } from './containers.js';
import { invalidArgument } from './grpc-error.js';
import type { ExecRequest__Output } from './proto/generated/runtime/v1/ExecRequest.js';
import type { ExecResponse } from './proto/generated/runtime/v1/ExecResponse.js';

export async function containerExec(ctx: CriContext, req: ExecRequest__Output): Promise<ExecResponse> {
  if (!ctx.streaming) throw pendingCall('Exec');
  const v = await criContainer(ctx, req.container_id);
  if (v.status !== 'running') throw invalidArgument(`container ${v.record.id} is not running`);
  return { url: ctx.streaming.execUrl(req) };
}
