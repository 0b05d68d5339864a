// cp pauses a running container while it copies (container-fs.ts). A skiff killed before it resumes the container
// (SIGKILL, a crash) leaves a marker in the container's directory that says so; reconciliation, which holds the
// container's lock and so runs only once no cp does, resumes the container the marker names.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from './container-record.js';
import type { EngineContext } from './context.js';

/** The run (its init's pid and start time) that cp paused. */
interface Marker {
  pid?: number;
  startTime?: string;
}

const markerOf = (ctx: EngineContext, id: string) => join(ctx.paths.container(id), 'cp-paused');

/** Pauses the container for a copy; returns how to resume it. */
export async function pauseForCopy(ctx: EngineContext, rec: ContainerRecord): Promise<() => Promise<void>> {
  const marker = markerOf(ctx, rec.id);
  const m: Marker = { pid: rec.state.pid, startTime: rec.state.pidStartTime };
  writeFileSync(marker, JSON.stringify(m));
  try {
    await ctx.runtimeOf(rec).pause(rec.id);
  } catch (err) {
    rmSync(marker, { force: true });
    throw err;
  }
  return async () => {
    await ctx.runtimeOf(rec).resume(rec.id);
    rmSync(marker, { force: true });
  };
}

/** Whether a cp paused the container and has not resumed it (yet, or ever). */
export function copyPauseLeft(ctx: EngineContext, id: string): boolean {
  return existsSync(markerOf(ctx, id));
}

/** Resumes a container a killed cp left paused; the caller holds the container's lock. */
export async function resumeAfterKilledCopy(ctx: EngineContext, rec: ContainerRecord): Promise<void> {
  const marker = markerOf(ctx, rec.id);
  let m: Marker = {};
  try {
    m = JSON.parse(readFileSync(marker, 'utf8')) as Marker;
  } catch {
    // Killed while writing it: nothing was paused yet.
  }
  const sameRun = m.pid === rec.state.pid && m.startTime === rec.state.pidStartTime;
  if (sameRun && (await ctx.runtimeOf(rec).frozen(rec.id))) await ctx.runtimeOf(rec).resume(rec.id);
  rmSync(marker, { force: true });
}
