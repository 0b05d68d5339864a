// ContainerStatus: the container's CRI state, times in nanoseconds, exit code and reason, mounts, log path and
// image; with verbose, info["info"] holds its record as JSON (containerd puts its own there).
import type { CriContext } from './context.js';
import { criContainer, criStatusOf } from './containers.js';
import type { ContainerStatusRequest__Output } from './proto/generated/runtime/v1/ContainerStatusRequest.js';
import type { ContainerStatusResponse } from './proto/generated/runtime/v1/ContainerStatusResponse.js';

export async function containerStatus(ctx: CriContext, req: ContainerStatusRequest__Output): Promise<ContainerStatusResponse> {
  const v = await criContainer(ctx, req.container_id);
  const info: Record<string, string> = req.verbose ? { info: JSON.stringify({ pid: v.record.state.pid ?? 0, config: v.record.config, runtimeSpec: ctx.engine.spec(v.record.id) ?? null }) } : {};
  return { status: criStatusOf(v), info };
}
