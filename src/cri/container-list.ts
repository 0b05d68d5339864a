// ListContainers: the CRI's containers, filtered by ID (a prefix, as containerd), state, sandbox and labels.
import type { CriContext } from './context.js';
import { criContainerOf, isCriContainer } from './containers.js';
import { selects } from './cri-keys.js';
import type { ListContainersRequest__Output } from './proto/generated/runtime/v1/ListContainersRequest.js';
import type { ListContainersResponse } from './proto/generated/runtime/v1/ListContainersResponse.js';

export async function containerList(ctx: CriContext, req: ListContainersRequest__Output): Promise<ListContainersResponse> {
  const f = req.filter;
  const out = (await ctx.engine.list()).filter(isCriContainer).map(criContainerOf).filter((c) => !f || (
    (!f.id || c.id!.startsWith(f.id))
    && (!f.state || c.state === f.state.state)
    && (!f.pod_sandbox_id || c.pod_sandbox_id!.startsWith(f.pod_sandbox_id))
    && selects(f.label_selector, c.labels!)));
  return { containers: out };
}
