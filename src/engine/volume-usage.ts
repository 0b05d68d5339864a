// docker volume ls, inspect, rm and prune: the volume store (volumes.ts) with what only the engine knows, the
// containers that use each volume. A volume a container uses, in any state, is not removed (docker's "volume is in
// use"); prune removes what no container uses, only anonymous volumes unless asked for all (docker 23 and later).
import { SkiffError } from '../common/errors.js';
import type { EngineContext } from './context.js';
import { reconcileAll } from './reconcile.js';
import type { Volume } from './volumes.js';

/** docker marks an anonymous volume with this label (and prune without --all removes only those). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface VolumeView extends Volume {
  /** IDs of the containers whose mounts name it, in any state. */
  usedBy: string[];
}

/** The volumes' users, by volume name, from every container's record (brought up to date first). */
async function usersOf(ctx: EngineContext): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const rec of await reconcileAll(ctx)) {
    for (const m of rec.config.mounts) {
      if (m.type !== 'volume' || !m.source) continue;
      users.set(m.source, [...(users.get(m.source) ?? []), rec.id]);
    }
  }
  return users;
}

function viewOf(v: Volume, users: Map<string, string[]>): VolumeView {
  const labels = v.anonymous ? { [ANONYMOUS_LABEL]: '', ...v.labels } : v.labels;
  return { ...v, labels, usedBy: users.get(v.name) ?? [] };
}

export async function listVolumes(ctx: EngineContext): Promise<VolumeView[]> {
  const users = await usersOf(ctx);
  return (await ctx.volumes.list()).map((v) => viewOf(v, users));
}

export async function inspectVolume(ctx: EngineContext, name: string): Promise<VolumeView> {
  const v = await ctx.volumes.get(name);
  if (!v) throw new SkiffError(`No such volume: ${name}`, 'ENOENT');
  return viewOf(v, await usersOf(ctx));
}

/** docker volume rm: refused while a container uses it; with `force` a missing volume is not an error. */
export async function removeVolume(ctx: EngineContext, name: string, o: { force?: boolean } = {}): Promise<void> {
  if (!(await ctx.volumes.get(name))) {
    if (o.force) return;
    throw new SkiffError(`get ${name}: no such volume`, 'ENOENT');
  }
  const users = (await usersOf(ctx)).get(name) ?? [];
  if (users.length) throw new SkiffError(`remove ${name}: volume is in use - [${users.join(', ')}]`, 'EBUSY');
  await ctx.volumes.remove(name);
}

/**
 * docker volume prune: every volume no container uses (only anonymous ones unless `all`) that `matches` keeps;
 * what their data took.
 */
export async function pruneVolumes(ctx: EngineContext, o: { all?: boolean; matches?: (v: VolumeView) => boolean } = {}): Promise<{ removed: string[]; reclaimed: number }> {
  const removed: string[] = [];
  let reclaimed = 0;
  for (const v of await listVolumes(ctx)) {
    if (v.usedBy.length || (!o.all && !v.anonymous) || (o.matches && !o.matches(v))) continue;
    const size = ctx.volumes.size(v.name);
    await ctx.volumes.remove(v.name);
    removed.push(v.name);
    reclaimed += size;
  }
  return { removed, reclaimed };
}
