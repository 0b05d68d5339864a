// PodSandboxStatus: ready or not, its IPs, namespace options, labels and annotations; with verbose, info["info"]
// holds the pod as the pod layer sees it (containerd puts its own record there).
import type { CriContext } from './context.js';
import type { PodSandboxStatusRequest__Output } from './proto/generated/runtime/v1/PodSandboxStatusRequest.js';
import type { PodSandboxStatusResponse } from './proto/generated/runtime/v1/PodSandboxStatusResponse.js';
import { criSandboxStatusOf, sandboxOf } from './sandboxes-view.js';

export async function sandboxStatus(ctx: CriContext, req: PodSandboxStatusRequest__Output): Promise<PodSandboxStatusResponse> {
  const pod = await sandboxOf(ctx, ctx.sandboxes, req.pod_sandbox_id);
  const info: Record<string, string> = req.verbose ? { info: JSON.stringify({ pid: pod.pausePid ?? 0, netns: pod.netnsPath ?? '', pod }) } : {};
  return { status: criSandboxStatusOf(pod), info, containers_statuses: [], timestamp: (BigInt(Date.now()) * 1_000_000n).toString() };
}
