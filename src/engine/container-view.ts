// A container as a user sees it: its record and the status the live system gives it (docker's State.Status:
// created, running, paused, restarting, exited, removing).
import type { ContainerRecord } from './container-record.js';
import type { EngineContext } from './context.js';
import { isSameProcessAlive } from '../runtime/proc.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing';

export interface ContainerView {
  record: ContainerRecord;
  status: ContainerStatus;
}

export async function viewOf(ctx: EngineContext, rec: ContainerRecord): Promise<ContainerView> {
  let status: ContainerStatus = rec.state.status;
  if (rec.state.status === 'running') {
    // Reconciliation found the process alive; only the freezer is left to ask.
    if (await ctx.runtimeOf(rec).frozen(rec.id).catch(() => false)) status = 'paused';
  } else if (rec.state.restarting && rec.state.owner && (await isSameProcessAlive(rec.state.owner.pid, rec.state.owner.startTime))) {
    status = 'restarting';
  }
  return { record: rec, status };
}
