// The engine's use of the runtime's monitored create: the container under a native monitor (docs/monitor.md) that
// holds its stdio (stdin kept open with -i, the pty with -t), writes its log and exit file, serves attach, and runs
// the engine's exit command when it exits.
import type { MonitoredContainer } from '../runtime/container-runtime.js';
import type { ContainerRecord } from './container-record.js';
import type { EngineContext } from './context.js';

/** Where the container's log is: the CRI's log_path when it was given one, else in the container's directory. */
export function logPathOf(ctx: EngineContext, rec: ContainerRecord): string {
  return rec.config.logPath ?? ctx.paths.log(rec.id);
}

export async function startMonitored(ctx: EngineContext, rec: ContainerRecord, bundle: string): Promise<MonitoredContainer> {
  return ctx.runtimeOf(rec).createMonitored(rec.id, { bundle, loopbackUp: rec.config.networkMode === 'none' }, {
    logPath: logPathOf(ctx, rec),
    exitFile: ctx.paths.exitFile(rec.id),
    exitOwnerFile: ctx.paths.exitOwner(rec.id),
    attachSocket: ctx.paths.attachSocket(rec.id),
    stdin: rec.config.openStdin,
    ...(ctx.opts.exitCommand ? { exitCommand: ctx.opts.exitCommand(rec.id) } : {}),
  });
}
