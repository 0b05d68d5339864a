// ListPodSandbox: the CRI's pods, filtered by ID (a prefix, as containerd), state and labels. Reads the pod
// records only: no lock is held, so a slow pull or start elsewhere never holds it up.
import type { CriContext } from './context.js';
import { selects } from './cri-keys.js';
import type { ListPodSandboxRequest__Output } from './proto/generated/runtime/v1/ListPodSandboxRequest.js';
import type { ListPodSandboxResponse } from './proto/generated/runtime/v1/ListPodSandboxResponse.js';
import { criSandboxOf, isCriSandbox } from './sandboxes-view.js';

export async function sandboxList(ctx: CriContext, req: ListPodSandboxRequest__Output): Promise<ListPodSandboxResponse> {
  const f = req.filter;
  const items = (await ctx.sandboxes.list()).filter(isCriSandbox).map(criSandboxOf).filter((p) => !f || (
    (!f.id || p.id!.startsWith(f.id))
    && (!f.state || p.state === f.state.state)
    && selects(f.label_selector, p.labels!)));
  return { items };
}
