// Every engine entry point first brings records in line with what is really there (../shared/ARCHITECTURE.md): a
// run whose process is gone is finished (exit status from the monitor's file, or unknown), a removal whose owner
// died is completed, and what a killed create, start or remove left (a rootfs mount or directory, runtime state and
// its cgroup, a pinned network namespace, an exit file) is taken down. So a SIGKILL anywhere, a killed monitor, or a
// reboot leaves nothing the next command does not show or repair. Work on a container another process holds locked
// (being started, stopped, removed) is left to that process.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { overlayMounted, removeRootfs, unmountRootfs } from '../image/rootfs.js';
import { isSameProcessAlive } from '../runtime/proc.js';
import { isAlive } from '../image/lease.js';
import { finishRun, processAlive } from './container-exit.js';
import { disconnectContainer } from './container-network.js';
import { copyPauseLeft, resumeAfterKilledCopy } from './cp-pause.js';
import type { ContainerRecord } from './container-record.js';
import { removeLocked, TOMBSTONE } from './container-remove.js';
import type { EngineContext } from './context.js';
import { fullIdEntries } from './names.js';

/** Entry points do not wait for a container another command is working on: they show it as its record says. */
const NO_WAIT = 0;

/** What a run leaves that a container which is not running must not have. */
function runLeftovers(ctx: EngineContext, rec: ContainerRecord): string[] {
  const id = rec.id;
  const out: string[] = [];
  if (existsSync(join(ctx.runtimeOf(rec).stateRoot, id))) out.push('runtime state');
  if (existsSync(join(ctx.paths.netns, id))) out.push('network');
  if (overlayMounted(ctx.paths.root, id)) out.push('rootfs');
  return out;
}

async function ownerAlive(rec: ContainerRecord): Promise<boolean> {
  const owner = rec.state.owner;
  return owner !== undefined && isSameProcessAlive(owner.pid, owner.startTime);
}

/** Whether a record may be out of line with reality (cheap checks, no lock). */
async function needsWork(ctx: EngineContext, rec: ContainerRecord): Promise<boolean> {
  switch (rec.state.status) {
    case 'removing': return !(await ownerAlive(rec));
    case 'running': return !(await processAlive(rec)) || copyPauseLeft(ctx, rec.id);
    default: return runLeftovers(ctx, rec).length > 0;
  }
}

/** The record brought up to date; the caller holds the lock. undefined if the container turned out to be gone. */
export async function reconcileLocked(ctx: EngineContext, rec: ContainerRecord): Promise<ContainerRecord | undefined> {
  if (rec.state.status === 'removing') {
    if (await ownerAlive(rec)) return rec;
    await removeLocked(ctx, rec, { volumes: false });
    return undefined;
  }
  if (rec.state.status === 'running') {
    if (!(await processAlive(rec))) return finishRun(ctx, rec);
    // A cp killed while it had the container paused: under the lock, no cp is running any more.
    if (copyPauseLeft(ctx, rec.id)) await resumeAfterKilledCopy(ctx, rec);
    return rec;
  }
  for (const what of runLeftovers(ctx, rec)) {
    const undo = what === 'runtime state' ? () => ctx.runtimeOf(rec).delete(rec.id, { force: true })
      : what === 'network' ? () => disconnectContainer(ctx.network(), rec.id, undefined)
        : () => unmountRootfs(ctx.paths.root, rec.id);
    await undo().catch((err: Error) => ctx.warn(`container ${rec.id.slice(0, 12)}: leftover ${what}: ${err.message}`));
  }
  return rec;
}

/** One container brought up to date; undefined if it is gone. */
export async function reconcileOne(ctx: EngineContext, id: string): Promise<ContainerRecord | undefined> {
  let rec: ContainerRecord;
  try {
    rec = await ctx.records.read(id);
  } catch (err) {
    if ((err as SkiffError).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!(await needsWork(ctx, rec))) return rec;
  try {
    return await ctx.records.locked(id, (locked) => reconcileLocked(ctx, locked), NO_WAIT);
  } catch (err) {
    if ((err as SkiffError).code === 'ENOENT') return undefined;
    if ((err as SkiffError).code === 'ETIMEDOUT') return rec;
    throw err;
  }
}

/** Every container brought up to date, then what no record accounts for swept. */
export async function reconcileAll(ctx: EngineContext): Promise<ContainerRecord[]> {
  const out: ContainerRecord[] = [];
  const ids = await ctx.records.ids();
  for (const id of ids) {
    const rec = await reconcileOne(ctx, id);
    if (rec) out.push(rec);
  }
  await sweepOrphans(ctx, new Set(ids));
  return out;
}

/**
 * What belongs to no container record: a container directory without container.json (a create killed half way,
 * unless its creator still holds the lock), runtime state, a pinned network namespace or an exit file. `listed`:
 * IDs whose record the caller just saw (one removed since is swept next time); any other is looked up, so what a
 * create made after the caller's listing is never taken for a leftover.
 */
export async function sweepOrphans(ctx: EngineContext, listed = new Set<string>()): Promise<void> {
  const known = (id: string) => listed.has(id) || existsSync(ctx.paths.record(id));
  for (const id of ctx.records.directories().filter((d) => !known(d))) {
    try {
      await ctx.records.lockedDirectory(id, () => removeRootfs(ctx.paths.root, id), NO_WAIT);
    } catch (err) {
      if ((err as SkiffError).code !== 'ETIMEDOUT') ctx.warn(`leftover container directory ${id.slice(0, 12)}: ${(err as Error).message}`);
    }
  }
  // A removal killed while it emptied the renamed directory.
  for (const entry of existsSync(ctx.paths.containers) ? readdirSync(ctx.paths.containers) : []) {
    const owner = Number(entry.split(TOMBSTONE)[1]);
    if (entry.includes(TOMBSTONE) && !isAlive(owner)) rmSync(join(ctx.paths.containers, entry), { recursive: true, force: true });
  }
  const warn = (what: string, id: string) => (err: Error) => ctx.warn(`leftover ${what} ${id.slice(0, 12)}: ${err.message}`);
  for (const runtime of ctx.allRuntimes()) {
    for (const id of fullIdEntries(runtime.stateRoot).filter((d) => !known(d))) await runtime.delete(id, { force: true }).catch(warn('runtime state', id));
  }
  for (const id of fullIdEntries(ctx.paths.netns).filter((d) => !known(d))) await disconnectContainer(ctx.network(), id, undefined).catch(warn('network namespace', id));
  for (const id of fullIdEntries(ctx.paths.exits).filter((d) => !known(d))) rmSync(ctx.paths.exitFile(id), { force: true });
}
