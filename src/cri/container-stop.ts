// StopContainer: the stop signal (the image's, else SIGTERM), `timeout` seconds, then SIGKILL; a container that is
// not running is already stopped (no error, as the kubelet retries stops).
import type { CriContext } from './context.js';
import { criContainer } from './containers.js';
import type { StopContainerRequest__Output } from './proto/generated/runtime/v1/StopContainerRequest.js';
import type { StopContainerResponse } from './proto/generated/runtime/v1/StopContainerResponse.js';

export async function containerStop(ctx: CriContext, req: StopContainerRequest__Output): Promise<StopContainerResponse> {
  const v = await criContainer(ctx, req.container_id);
  if (v.status !== 'running' && v.status !== 'paused') return {};
  await ctx.engine.stop(v.record.id, Math.max(0, Number(req.timeout || '0')));
  return {};
}
