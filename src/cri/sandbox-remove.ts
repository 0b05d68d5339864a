// RemovePodSandbox: the pod and every container in it removed, running or not; removing a missing sandbox
// succeeds (the CRI asks removals to be idempotent).
import { status } from '@grpc/grpc-js';
import type { CriContext } from './context.js';
import { criContainer, criStatusOf } from './containers.js';
import { CriError } from './grpc-error.js';
import type { RemovePodSandboxRequest__Output } from './proto/generated/runtime/v1/RemovePodSandboxRequest.js';
import type { RemovePodSandboxResponse } from './proto/generated/runtime/v1/RemovePodSandboxResponse.js';
import { sandboxOf } from './sandboxes-view.js';

export async function sandboxRemove(ctx: CriContext, req: RemovePodSandboxRequest__Output): Promise<RemovePodSandboxResponse> {
  const pods = ctx.sandboxes;
  const pod = await sandboxOf(ctx, pods, req.pod_sandbox_id).catch((err: unknown) => {
    if (err instanceof CriError && err.code === status.NOT_FOUND) return undefined;
    throw err;
  });
  if (!pod) return {};
  const last = await Promise.all(pod.containers.map((id) => criContainer(ctx, id).then(criStatusOf, () => undefined)));
  await pods.remove(pod.id, { force: true });
  for (const s of last) {
    if (!s) continue;
    ctx.events.publish(s.id!, 'CONTAINER_DELETED_EVENT', {
      container_id: s.id!, container_event_type: 'CONTAINER_DELETED_EVENT', created_at: (BigInt(Date.now()) * 1_000_000n).toString(),
      pod_sandbox_status: null, containers_statuses: [{ ...s, state: 'CONTAINER_EXITED' }],
    });
  }
  return {};
}
