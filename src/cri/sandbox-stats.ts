// PodSandboxStats and ListPodSandboxStats: a pod's usage as the sum of its running containers' (container-stats.ts),
// with each container's own stats beside it, and the pod's process count.
import type { CriContext } from './context.js';
import { isCriContainer } from './containers.js';
import { sandboxMetadataOf, selects, visible } from './cri-keys.js';
import { statsOf } from './container-stats.js';
import type { ContainerStats } from './proto/generated/runtime/v1/ContainerStats.js';
import type { ListPodSandboxStatsRequest__Output } from './proto/generated/runtime/v1/ListPodSandboxStatsRequest.js';
import type { ListPodSandboxStatsResponse } from './proto/generated/runtime/v1/ListPodSandboxStatsResponse.js';
import type { PodSandboxStats } from './proto/generated/runtime/v1/PodSandboxStats.js';
import type { PodSandboxStatsRequest__Output } from './proto/generated/runtime/v1/PodSandboxStatsRequest.js';
import type { PodSandboxStatsResponse } from './proto/generated/runtime/v1/PodSandboxStatsResponse.js';
import { isCriSandbox, sandboxOf } from './sandboxes-view.js';
import type { PodView } from './sandboxes.js';

const sum = (xs: ContainerStats[], pick: (s: ContainerStats) => { value?: unknown } | null | undefined) =>
  ({ value: xs.reduce((n, s) => n + BigInt(String(pick(s)?.value ?? '0')), 0n).toString() });

async function podStats(ctx: CriContext, pod: PodView): Promise<PodSandboxStats> {
  const views = (await Promise.all(pod.containers.map((id) => ctx.engine.inspect(id).catch(() => undefined))))
    .filter((v) => v && isCriContainer(v) && v.status === 'running');
  const containers = await Promise.all(views.map((v) => statsOf(ctx, v!)));
  const pids = (await Promise.all(views.map((v) => ctx.engine.statsSample(v!)))).reduce((n, s) => n + s.pids, 0);
  const ts = (BigInt(Date.now()) * 1_000_000n).toString();
  return {
    attributes: { id: pod.id, metadata: sandboxMetadataOf(pod.annotations) ?? null, labels: visible(pod.labels), annotations: visible(pod.annotations) },
    linux: {
      cpu: { timestamp: ts, usage_core_nano_seconds: sum(containers, (s) => s.cpu?.usage_core_nano_seconds), usage_nano_cores: sum(containers, (s) => s.cpu?.usage_nano_cores) },
      memory: { timestamp: ts, working_set_bytes: sum(containers, (s) => s.memory?.working_set_bytes), usage_bytes: sum(containers, (s) => s.memory?.usage_bytes) },
      network: null,
      process: { timestamp: ts, process_count: { value: String(pids) } },
      containers,
    },
    windows: null,
  };
}

export async function sandboxStats(ctx: CriContext, req: PodSandboxStatsRequest__Output): Promise<PodSandboxStatsResponse> {
  return { stats: await podStats(ctx, await sandboxOf(ctx, ctx.sandboxes, req.pod_sandbox_id)) };
}

export async function sandboxStatsList(ctx: CriContext, req: ListPodSandboxStatsRequest__Output): Promise<ListPodSandboxStatsResponse> {
  const f = req.filter;
  const pods = (await ctx.sandboxes.list()).filter((p) => isCriSandbox(p) && p.status === 'running'
    && (!f || ((!f.id || p.id.startsWith(f.id)) && selects(f.label_selector, visible(p.labels)))));
  return { stats: await Promise.all(pods.map((p) => podStats(ctx, p))) };
}
