// docker stop, kill and wait. stop sends the container's stop signal (--stop-signal, else the image's StopSignal,
// else SIGTERM), waits up to the timeout (--stop-timeout, else 10 s), then SIGKILLs every process of the container;
// once the process is gone the run is taken down and the exit recorded. A stopped or killed container is not
// brought back by its restart policy (docker's "manually stopped").
import { SkiffError } from '../common/errors.js';
import { catchesSignal, pidInOwnNamespace } from '../runtime/proc.js';
import { parseSignal } from '../runtime/signals.js';
import { finishRun, waitGone } from './container-exit.js';
import type { ContainerRecord } from './container-record.js';
import { removeLocked } from './container-remove.js';
import type { EngineContext } from './context.js';
import { reconcileOne } from './reconcile.js';

export const DEFAULT_STOP_TIMEOUT = 10;
const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal';

export function stopSignalOf(ctx: EngineContext, rec: ContainerRecord): string {
  return rec.config.stopSignal ?? ctx.records.spec(rec.id)?.annotations?.[STOP_SIGNAL_ANNOTATION] ?? 'SIGTERM';
}

export async function current(ctx: EngineContext, id: string): Promise<ContainerRecord> {
  const rec = await reconcileOne(ctx, id);
  if (!rec) throw new SkiffError(`No such container: ${id}`, 'ENOENT');
  return rec;
}

/** Marks the container as stopped by the user: restart policies leave it alone, a pending restart is called off. */
async function markStopRequested(ctx: EngineContext, id: string): Promise<ContainerRecord> {
  return ctx.records.locked(id, async (rec) => {
    if ((rec.state.status === 'running' || rec.state.restarting) && !rec.state.stopRequested) {
      rec.state = { ...rec.state, stopRequested: true, restarting: false, owner: undefined };
      await ctx.records.write(rec);
    }
    return rec;
  });
}

/** Signals the container's init; a paused container is thawed after, so the signal is acted on. */
async function signal(ctx: EngineContext, rec: ContainerRecord, sig: string | number, all = false): Promise<void> {
  try {
    await ctx.runtimeOf(rec).kill(rec.id, sig, { all });
    if (await ctx.runtimeOf(rec).frozen(rec.id)) await ctx.runtimeOf(rec).resume(rec.id);
  } catch (err) {
    // Exited meanwhile: what the signal was for has happened.
    if (!['ESRCH', 'ENOENT'].includes((err as SkiffError).code)) throw err;
  }
}

/**
 * Sends the stop signal and waits up to `timeoutMs` for the process to end. pid_namespaces(7): the init of a pid
 * namespace is sent only the signals it has a handler for (SIGKILL and SIGSTOP aside), from any namespace. A stop
 * right after the start (critest's comes 30 ms after StartContainer) can find the program before it set its handler,
 * and that signal is gone: it is sent again, once, when the handler appears. Looked at after the send, a handler
 * that is missing was missing then too, so a program never gets the signal twice.
 */
async function signalAndWait(ctx: EngineContext, rec: ContainerRecord, sig: number, pid: number, pidStartTime: string, timeoutMs: number): Promise<boolean> {
  await signal(ctx, rec, sig);
  const dropped = pidInOwnNamespace(pid) === 1 && catchesSignal(pid, sig) === false;
  if (!dropped) return waitGone(pid, pidStartTime, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await waitGone(pid, pidStartTime, Math.max(0, Math.min(20, deadline - Date.now())))) return true;
    if (Date.now() >= deadline) return false;
    if (catchesSignal(pid, sig)) {
      await signal(ctx, rec, sig);
      return waitGone(pid, pidStartTime, Math.max(0, deadline - Date.now()));
    }
  }
}

/** Takes down the finished run (and removes an --rm container); the record as it ends up, undefined if removed. */
export async function afterExit(ctx: EngineContext, id: string): Promise<ContainerRecord | undefined> {
  return ctx.records.locked(id, async (rec) => {
    const done = await finishRun(ctx, rec);
    // A `skiff run` waiting in the foreground removes it itself, once it has read the exit status.
    if (done.config.autoRemove && done.state.status === 'exited' && !(await ctx.waiters.alive(id))) {
      await removeLocked(ctx, done, { volumes: true });
      return undefined;
    }
    return done;
  });
}

/** `signal` replaces the stop signal (rm -f sends SIGKILL at once). */
export async function stopContainer(ctx: EngineContext, id: string, timeoutSec?: number, signalOverride?: string): Promise<void> {
  let rec = await current(ctx, id);
  if (rec.state.status !== 'running' && !rec.state.restarting) return;
  rec = await markStopRequested(ctx, id);
  if (rec.state.status !== 'running') return;
  const timeout = timeoutSec ?? rec.config.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
  const sig = parseSignal(signalOverride ?? stopSignalOf(ctx, rec));
  const { pid, pidStartTime } = rec.state;
  if (pid === undefined || pidStartTime === undefined) return;
  // We take down the run ourselves (afterExit below), so the monitor starts no exit command meanwhile (waiters.ts).
  await ctx.waiters.claimExit(id);
  try {
    if (sig === 9 || !(await signalAndWait(ctx, rec, sig, pid, pidStartTime, timeout * 1000))) {
      await signal(ctx, rec, 'SIGKILL', true);
      if (!(await waitGone(pid, pidStartTime, 10_000))) throw new SkiffError(`container ${rec.name}: its process ${pid} did not die after SIGKILL`, 'EBUSY');
    }
    await afterExit(ctx, id);
  } finally {
    ctx.waiters.releaseExit(id);
  }
}

export async function killContainer(ctx: EngineContext, id: string, sig: string | number = 'SIGKILL'): Promise<void> {
  const number = parseSignal(sig);
  let rec = await current(ctx, id);
  if (rec.state.status !== 'running') throw new SkiffError(`Cannot kill container: ${rec.name}: Container ${rec.id} is not running`, 'EINVAL');
  if (number === 9 || number === parseSignal(stopSignalOf(ctx, rec))) rec = await markStopRequested(ctx, id);
  await signal(ctx, rec, number);
}

/** docker wait: blocks until the container is not running, then gives its exit code. */
export async function waitContainer(ctx: EngineContext, id: string): Promise<number> {
  for (;;) {
    const rec = await current(ctx, id);
    if (rec.state.status === 'exited' && !rec.state.restarting) return rec.state.exitCode ?? 255;
    if (rec.state.status === 'running' && rec.state.pid !== undefined && rec.state.pidStartTime !== undefined) {
      await waitGone(rec.state.pid, rec.state.pidStartTime, 60_000);
    } else {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
