// docker rm: the container's runtime state, network, rootfs (upper directory included), record, name and exit file;
// with -v its anonymous volumes. The record first says `removing` with its owner, so a removal killed half way is
// finished by the next command instead of leaving half a container.
import { rmSync } from 'node:fs';
import { removeRootfs } from '../image/rootfs.js';
import { processStartTime } from '../runtime/proc.js';
import { disconnectContainer } from './container-network.js';
import type { ContainerRecord } from './container-record.js';
import type { EngineContext } from './context.js';

/** Removes a container that is not running; the caller holds its lock. */
export async function removeLocked(ctx: EngineContext, rec: ContainerRecord, o: { volumes: boolean }): Promise<void> {
  rec.state = { ...rec.state, status: 'removing', owner: { pid: process.pid, startTime: (await processStartTime(process.pid)) ?? '' } };
  await ctx.records.write(rec);
  await ctx.runtime.delete(rec.id, { force: true });
  await disconnectContainer(ctx.network(), rec.id, rec.network);
  // The directory goes with the rootfs: the record and the lock with it, so a command waiting for the lock
  // finds "No such container".
  await removeRootfs(ctx.paths.root, rec.id);
  rmSync(ctx.paths.exitFile(rec.id), { force: true });
  await ctx.records.releaseName(rec.name, rec.id);
  if (o.volumes) {
    for (const m of rec.config.mounts) {
      if (m.type !== 'volume' || !m.anonymous || !m.source) continue;
      await ctx.volumes.remove(m.source).catch((err: Error) => ctx.warn(`volume ${m.source}: ${err.message}`));
    }
  }
}
