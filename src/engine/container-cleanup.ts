// What happens when a container exits, run by the monitor's exit command (skiff container cleanup ID) in a process
// of its own, so it happens with no skiff process left: the run taken down and the exit recorded, an --rm container
// removed, and the restart policy applied. The engine restarts, not the monitor (which has no policy): after
// docker's back-off (100 ms, doubling each restart, at most a minute), unless the user stopped the container.
import { SkiffError } from '../common/errors.js';
import { processStartTime } from '../runtime/proc.js';
import type { ContainerRecord } from './container-record.js';
import { startLocked } from './container-start.js';
import { afterExit } from './container-stop.js';
import type { EngineContext } from './context.js';

const MAX_BACKOFF_MS = 60_000;

/** Whether the restart policy brings this exited container back (docker's restartmanager.ShouldRestart). */
export function shouldRestart(rec: ContainerRecord): boolean {
  const { name, maximumRetryCount } = rec.config.restartPolicy;
  if (rec.state.status !== 'exited' || rec.state.stopRequested) return false;
  switch (name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return rec.state.exitCode !== 0 && (maximumRetryCount === 0 || rec.state.restartCount < maximumRetryCount);
    default:
      return false;
  }
}

export function backoffMs(restartCount: number): number {
  return Math.min(100 * 2 ** restartCount, MAX_BACKOFF_MS);
}

export async function cleanupContainer(ctx: EngineContext, id: string): Promise<void> {
  let rec: ContainerRecord | undefined;
  try {
    rec = await afterExit(ctx, id);
  } catch (err) {
    if ((err as SkiffError).code === 'ENOENT') return; // removed meanwhile
    throw err;
  }
  if (!rec || !shouldRestart(rec)) return;
  const me = { pid: process.pid, startTime: (await processStartTime(process.pid)) ?? '' };
  const delay = backoffMs(rec.state.restartCount);
  await ctx.records.locked(id, async (r) => {
    r.state = { ...r.state, restarting: true, owner: me };
    await ctx.records.write(r);
  });
  await new Promise((r) => setTimeout(r, delay));
  await ctx.records.locked(id, async (r) => {
    const stillOurs = r.state.restarting && r.state.owner?.pid === me.pid && r.state.owner.startTime === me.startTime;
    if (!stillOurs || !shouldRestart(r)) return;
    r.state = { ...r.state, restarting: false, owner: undefined, restartCount: r.state.restartCount + 1 };
    await startLocked(ctx, r);
  });
}
