// The engine's one use of the runtime's monitored create: the container under a native monitor that holds its
// stdio, writes its log and exit file, serves attach, and runs the engine's exit command when it exits.
import type { ContainerRecord, ContainerState } from './container-record.js';
import type { EngineContext } from './context.js';

export interface Monitored {
  pid: number;
  monitor: ContainerState['monitor'];
}

export async function startMonitored(ctx: EngineContext, rec: ContainerRecord, bundle: string): Promise<Monitored> {
  const state = await ctx.runtime.createMonitored(rec.id, { bundle }, ctx.paths.log(rec.id), ctx.paths.exitFile(rec.id));
  const monitor = (await ctx.runtime.store.read(rec.id)).monitor as { pid?: number; startTime?: string } | undefined;
  return { pid: state.pid!, monitor: monitor?.pid ? { pid: monitor.pid, startTime: monitor.startTime ?? '' } : undefined };
}
