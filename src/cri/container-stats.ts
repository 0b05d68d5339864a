// ContainerStats and ListContainerStats: a container's cgroup accounting (cgroup v1 here) through the engine's
// stats sample, as the kubelet reads it: CPU time and, from the previous sample, nanocores; the working set
// (usage less inactive file pages, as cAdvisor and containerd compute it); the writable layer's bytes and inodes.
import { join } from 'node:path';
import { readdirSync, lstatSync } from 'node:fs';
import type { ContainerView } from '../engine/container-view.js';
import type { StatsSample } from '../engine/container-stats.js';
import type { CriContext } from './context.js';
import { containerMetadataOf, KEYS, selects, visible } from './cri-keys.js';
import { criContainer, isCriContainer } from './containers.js';
import type { ContainerStats } from './proto/generated/runtime/v1/ContainerStats.js';
import type { ContainerStatsRequest__Output } from './proto/generated/runtime/v1/ContainerStatsRequest.js';
import type { ContainerStatsResponse } from './proto/generated/runtime/v1/ContainerStatsResponse.js';
import type { ListContainerStatsRequest__Output } from './proto/generated/runtime/v1/ListContainerStatsRequest.js';
import type { ListContainerStatsResponse } from './proto/generated/runtime/v1/ListContainerStatsResponse.js';

/** The previous sample of each container: nanocores are CPU time over wall time between two samples. */
const previous = new Map<string, StatsSample>();

const u64 = (n: number) => ({ value: String(Math.max(0, Math.round(n))) });

/** Bytes and inodes under a directory (the container's writable layer). */
function usage(dir: string): { bytes: number; inodes: number } {
  let bytes = 0, inodes = 0;
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      inodes++;
      bytes += st.isDirectory() ? 0 : st.blocks * 512;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return { bytes, inodes };
}

export async function statsOf(ctx: CriContext, v: ContainerView): Promise<ContainerStats> {
  const rec = v.record;
  const s = await ctx.engine.statsSample(v);
  const ts = (BigInt(s.read) * 1_000_000n).toString();
  const prev = previous.get(rec.id);
  previous.set(rec.id, s);
  const nanoCores = prev && s.read > prev.read && s.cpuTotal >= prev.cpuTotal ? ((s.cpuTotal - prev.cpuTotal) / ((s.read - prev.read) * 1e6)) * 1e9 : undefined;
  const upper = join(ctx.engine.ctx.paths.container(rec.id), 'upper');
  const layer = usage(upper);
  return {
    attributes: {
      id: rec.id, metadata: containerMetadataOf(rec.config.labels) ?? null, labels: visible(rec.config.labels), annotations: visible(rec.config.annotations),
    },
    cpu: { timestamp: ts, usage_core_nano_seconds: u64(s.cpuTotal), usage_nano_cores: nanoCores === undefined ? null : u64(nanoCores) },
    memory: {
      timestamp: ts, working_set_bytes: u64(s.memoryUsage), usage_bytes: u64(s.memoryUsage),
      available_bytes: s.memoryLimit ? u64(s.memoryLimit - s.memoryUsage) : null, rss_bytes: null, page_faults: null, major_page_faults: null,
    },
    writable_layer: { timestamp: ts, fs_id: { mountpoint: upper }, used_bytes: u64(layer.bytes), inodes_used: u64(layer.inodes) },
  };
}

export async function containerStats(ctx: CriContext, req: ContainerStatsRequest__Output): Promise<ContainerStatsResponse> {
  return { stats: await statsOf(ctx, await criContainer(ctx, req.container_id)) };
}

export async function containerStatsList(ctx: CriContext, req: ListContainerStatsRequest__Output): Promise<ListContainerStatsResponse> {
  const f = req.filter;
  const views = (await ctx.engine.list()).filter((v) => isCriContainer(v) && v.status === 'running' && (!f || (
    (!f.id || v.record.id.startsWith(f.id))
    && (!f.pod_sandbox_id || (v.record.config.labels[KEYS.sandboxId] ?? '').startsWith(f.pod_sandbox_id))
    && selects(f.label_selector, visible(v.record.config.labels)))));
  const live = new Set(views.map((v) => v.record.id));
  for (const id of previous.keys()) if (!live.has(id)) previous.delete(id);
  return { stats: await Promise.all(views.map((v) => statsOf(ctx, v))) };
}
