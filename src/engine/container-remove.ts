// docker rm: the container's runtime state, network, rootfs (upper directory included), record, name and exit file;
// with -v its anonymous volumes. The record first says `removing` with its owner, so a removal killed half way is
// finished by the next command instead of leaving half a container.
import { renameSync, rmSync } from 'node:fs';
import { unmountRootfs } from '../image/rootfs.js';
import { processStartTime } from '../runtime/proc.js';
import { disconnectContainer } from './container-network.js';
import type { ContainerRecord } from './container-record.js';
import type { EngineContext } from './context.js';

/** A removed container's directory while it is emptied: <id>.removing-<pid> (ids have no dot). */
export const TOMBSTONE = '.removing-';

/** Removes a container that is not running; the caller holds its lock. */
export async function removeLocked(ctx: EngineContext, rec: ContainerRecord, o: { volumes: boolean }): Promise<void> {
  rec.state = { ...rec.state, status: 'removing', owner: { pid: process.pid, startTime: (await processStartTime(process.pid)) ?? '' } };
  await ctx.records.write(rec);
  await ctx.runtimeOf(rec).delete(rec.id, { force: true });
  await disconnectContainer(ctx.network(), rec.id, rec.network);
  // The directory is renamed away before it is emptied, so a command taking the lock meanwhile (the monitor's exit
  // command, say) finds "No such container" instead of making a lock file in a directory being removed.
  await unmountRootfs(ctx.paths.root, rec.id);
  const tombstone = `${ctx.paths.container(rec.id)}${TOMBSTONE}${process.pid}`;
  renameSync(ctx.paths.container(rec.id), tombstone);
  rmSync(tombstone, { recursive: true, force: true, maxRetries: 3 });
  rmSync(ctx.paths.exitFile(rec.id), { force: true });
  await ctx.records.releaseName(rec.name, rec.id);
  if (o.volumes) {
    for (const m of rec.config.mounts) {
      if (m.type !== 'volume' || !m.anonymous || !m.source) continue;
      await ctx.volumes.remove(m.source).catch((err: Error) => ctx.warn(`volume ${m.source}: ${err.message}`));
    }
  }
}
