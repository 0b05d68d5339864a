// The end of a run: waiting for the container's process to go, reading what the monitor recorded, and taking down
// what the start made (runtime state and cgroup, network, rootfs mount) so the record says `exited`.
import { rmSync } from 'node:fs';
import { unmountRootfs } from '../image/rootfs.js';
import { readExitFile, type MonitorExit } from '../runtime/monitor-client.js';
import { isSameProcessAlive } from '../runtime/proc.js';
import { disconnectContainer } from './container-network.js';
import type { ContainerRecord } from './container-record.js';
import type { EngineContext } from './context.js';
import { refreshNetworkHosts } from './network-hosts.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `pid` (with its start time) is gone; false if still there after `timeoutMs`. */
export async function waitGone(pid: number, startTime: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  while (await isSameProcessAlive(pid, startTime)) {
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 100);
  }
  return true;
}

/** Whether the container's init is still there, as far as the record knows it. */
export async function processAlive(rec: ContainerRecord): Promise<boolean> {
  return rec.state.pid !== undefined && rec.state.pidStartTime !== undefined && isSameProcessAlive(rec.state.pid, rec.state.pidStartTime);
}

async function monitorAlive(rec: ContainerRecord): Promise<boolean> {
  return rec.state.monitor !== undefined && isSameProcessAlive(rec.state.monitor.pid, rec.state.monitor.startTime);
}

/**
 * The exit status of a run whose process is gone. A live monitor writes its file once it has reaped the process
 * and drained its output, so it gets a moment; a dead one (killed, or a reboot) may have written nothing.
 */
async function exitOf(ctx: EngineContext, rec: ContainerRecord): Promise<Omit<MonitorExit, 'finishedAt'> & { finishedAt?: string; error?: string }> {
  const file = ctx.paths.exitFile(rec.id);
  for (let waited = 0; waited <= 5000; waited += 10) {
    const alive = await monitorAlive(rec);
    // Read after the check: a monitor already gone wrote its file before it exited, if it ever did. Read before
    // it, a file written just after the read, by a monitor that then exited, was taken for no file at all.
    const exit = await readExitFile(file).catch(() => undefined);
    if (exit) return exit;
    if (!alive) break;
    await sleep(10);
  }
  // docker reports an exit it could not observe as 255 with the reason in State.Error.
  return { exitCode: 255, oomKilled: false, error: 'the exit status is unknown: the container\'s monitor was gone when it exited' };
}

/**
 * Takes down a run whose process is gone and records the exit; the caller holds the container's lock. Teardown
 * failures are warnings: the record must still say exited, and the next call retries what is left (idempotent).
 */
export async function finishRun(ctx: EngineContext, rec: ContainerRecord): Promise<ContainerRecord> {
  if (rec.state.status !== 'running') return rec;
  const exit = await exitOf(ctx, rec);
  const steps: [string, () => Promise<void>][] = [
    // Kills what is left in the cgroup, removes it and the runtime's state, runs poststop hooks.
    ['runtime state', () => ctx.runtimeOf(rec).delete(rec.id, { force: true })],
    ['network', () => disconnectContainer(ctx.network(), rec.id, rec.network)],
    ['rootfs', () => unmountRootfs(ctx.paths.root, rec.id)],
  ];
  for (const [what, run] of steps) {
    if (what === 'network' && !rec.network) continue;
    await run().catch((err: Error) => ctx.warn(`container ${rec.id.slice(0, 12)}: ${what} teardown: ${err.message}`));
  }
  rec.state = {
    ...rec.state, status: 'exited', exitCode: exit.exitCode, signal: exit.signal, oomKilled: exit.oomKilled,
    finishedAt: exit.finishedAt ?? new Date().toISOString(), error: exit.error,
    pid: undefined, pidStartTime: undefined, monitor: undefined,
  };
  const networks = rec.network?.attachments.map((a) => a.network) ?? [];
  rec.network = undefined;
  await ctx.records.write(rec);
  rmSync(ctx.paths.exitFile(rec.id), { force: true });
  for (const n of networks) await refreshNetworkHosts(ctx, n).catch((err: Error) => ctx.warn(`/etc/hosts of network ${n}: ${err.message}`));
  return rec;
}
