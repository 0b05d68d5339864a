// GetContainerEvents: a server stream of the containers' lifecycle events (container-events.ts) from the moment
// the client subscribes until it goes away; each carries the container's status and its sandbox's.
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { CriContext } from './context.js';
import { criContainer, criStatusOf } from './containers.js';
import { KEYS } from './cri-keys.js';
import type { ContainerEventResponse } from './proto/generated/runtime/v1/ContainerEventResponse.js';
import type { ContainerEventType } from './proto/generated/runtime/v1/ContainerEventType.js';
import type { GetEventsRequest__Output } from './proto/generated/runtime/v1/GetEventsRequest.js';
import { criSandboxStatusOf, sandboxOf } from './sandboxes-view.js';

export async function containerEvent(ctx: CriContext, id: string, type: ContainerEventType): Promise<ContainerEventResponse | undefined> {
  const v = await criContainer(ctx, id).catch(() => undefined);
  if (!v) return undefined;
  const podId = v.record.config.labels[KEYS.sandboxId];
  const pod = podId ? await sandboxOf(ctx, ctx.sandboxes, podId).catch(() => undefined) : undefined;
  return {
    container_id: id, container_event_type: type, created_at: (BigInt(Date.now()) * 1_000_000n).toString(),
    pod_sandbox_status: pod ? criSandboxStatusOf(pod) : null, containers_statuses: [criStatusOf(v)],
  };
}

export function containerEventsGet(ctx: CriContext, call: ServerWritableStream<GetEventsRequest__Output, ContainerEventResponse>): void {
  const unsubscribe = ctx.events.subscribe((e) => call.write(e));
  call.on('cancelled', unsubscribe);
  call.on('close', unsubscribe);
  call.on('error', unsubscribe);
}
