// RemoveContainer: stopped at once if still running (SIGKILL), then removed with its rootfs; removing one that is
// not there succeeds (the CRI asks removals to be idempotent).
import type { CriContext } from './context.js';
import { criContainer, criStatusOf } from './containers.js';
import { CriError } from './grpc-error.js';
import { status } from '@grpc/grpc-js';
import type { RemoveContainerRequest__Output } from './proto/generated/runtime/v1/RemoveContainerRequest.js';
import type { RemoveContainerResponse } from './proto/generated/runtime/v1/RemoveContainerResponse.js';
import { SkiffError } from '../common/errors.js';

export async function containerRemove(ctx: CriContext, req: RemoveContainerRequest__Output): Promise<RemoveContainerResponse> {
  const v = await criContainer(ctx, req.container_id).catch((err: unknown) => {
    if (err instanceof CriError && err.code === status.NOT_FOUND) return undefined;
    throw err;
  });
  if (!v) return {};
  const last = criStatusOf(v);
  await ctx.engine.remove(v.record.id, { force: true, volumes: true }).catch((err: SkiffError) => {
    if (err.code !== 'ENOENT') throw err;
  });
  ctx.events.publish(v.record.id, 'CONTAINER_DELETED_EVENT', {
    container_id: v.record.id, container_event_type: 'CONTAINER_DELETED_EVENT', created_at: (BigInt(Date.now()) * 1_000_000n).toString(),
    pod_sandbox_status: null, containers_statuses: [{ ...last, state: 'CONTAINER_EXITED' }],
  });
  return {};
}
