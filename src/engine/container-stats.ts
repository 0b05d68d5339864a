// docker stats: a container's usage as docker computes it, from the runtime's cgroup stats (runc's events --stats
// data), the host's /proc/stat and the container's network namespace (/proc/PID/net/dev). CPU % needs two samples:
// the container's CPU time over the whole machine's in between, times the CPUs online (moby
// calculateCPUPercentUnix); memory is usage less the inactive page cache (calculateMemUsageUnixNoCache), its limit
// the host's memory when the container has none.
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import type { ContainerView } from './container-view.js';
import type { EngineContext } from './context.js';

export interface StatsSample {
  /** When it was taken (ms since the epoch). */
  read: number;
  /** Nanoseconds of CPU the container used, and the whole machine (every CPU, busy or idle). */
  cpuTotal: number;
  systemCpu: number;
  onlineCpus: number;
  memoryUsage: number;
  memoryLimit: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

export interface ContainerStats extends Omit<StatsSample, 'cpuTotal' | 'systemCpu' | 'onlineCpus'> {
  cpuPercent: number;
  memoryPercent: number;
}

/** proc(5) /proc/stat: the "cpu" line in USER_HZ ticks (100 a second); docker adds user to softirq. */
async function systemCpuNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '))!;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((n, v) => n + Number(v), 0);
  return ticks * (1e9 / 100);
}

/** Bytes received and sent by every interface but loopback of the namespace `pid` is in (proc(5) /proc/net/dev). */
async function netBytes(pid: number): Promise<{ rx: number; tx: number }> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return { rx: 0, tx: 0 }; // the process ended between the listing and now
  }
  let rx = 0, tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() === 'lo') continue;
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    rx += v[0];
    tx += v[8];
  }
  return { rx, tx };
}

/** A sample of a running (or paused) container; zeros for one that is not, as docker reports it. */
export async function sampleStats(ctx: EngineContext, view: ContainerView): Promise<StatsSample> {
  const zero: StatsSample = { read: Date.now(), cpuTotal: 0, systemCpu: 0, onlineCpus: cpus().length, memoryUsage: 0, memoryLimit: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0 };
  const rec = view.record;
  if ((view.status !== 'running' && view.status !== 'paused') || rec.state.pid === undefined) return zero;
  let s;
  try {
    s = await ctx.runtimeOf(rec).stats(rec.id);
  } catch {
    return zero; // stopped in the meantime
  }
  const mem = s.memory;
  const inactive = mem.raw.total_inactive_file ?? mem.raw.inactive_file;
  const usage = inactive !== undefined && inactive < mem.usage.usage ? mem.usage.usage - inactive : mem.usage.usage;
  const host = totalmem();
  const blk = (op: string) => s.blkio.ioServiceBytesRecursive.filter((e) => e.op.toLowerCase() === op).reduce((n, e) => n + e.value, 0);
  // With the host's network there is no namespace of its own to count (docker shows 0B too).
  const net = rec.config.networkMode === 'host' ? { rx: 0, tx: 0 } : await netBytes(rec.state.pid);
  return {
    ...zero, cpuTotal: s.cpu.usage.total, systemCpu: await systemCpuNs(),
    memoryUsage: usage, memoryLimit: mem.usage.limit < 0 || mem.usage.limit > host ? host : mem.usage.limit,
    netRx: net.rx, netTx: net.tx, blockRead: blk('read'), blockWrite: blk('write'), pids: s.pids.current,
  };
}

/** docker's figures from a sample and the one before it (no CPU % without one). */
export function statsBetween(prev: StatsSample | undefined, cur: StatsSample): ContainerStats {
  const cpuDelta = prev ? cur.cpuTotal - prev.cpuTotal : 0;
  const systemDelta = prev ? cur.systemCpu - prev.systemCpu : 0;
  const { cpuTotal: _c, systemCpu: _s, onlineCpus, ...rest } = cur;
  return {
    ...rest,
    cpuPercent: cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0,
    memoryPercent: cur.memoryLimit ? (cur.memoryUsage / cur.memoryLimit) * 100 : 0,
  };
}
