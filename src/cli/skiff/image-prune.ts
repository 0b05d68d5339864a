// skiff image prune: garbage collection of blobs, unpacked layers and interrupted downloads nothing uses, and of
// what killed processes left behind; one line per such leftover, then the totals.
import type { Command } from 'commander';
import { gc } from '../../image/gc.js';
import { contextOf } from './context.js';
import { imageCommand } from './image-command.js';
import { formatBytes } from './transfer-progress.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  imageCommand(program).command('prune')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await gc(contextOf(cmd).root);
      const left = r.leftovers.reduce((n, l) => n + l.bytes, 0);
      const lines = [
        ...r.leftovers.map((l) => `Removed ${l.path} (${formatBytes(l.bytes)}): ${l.why}`),
        `Removed ${r.blobs} blobs (${formatBytes(r.bytes)}), ${r.snapshots} unpacked layers (${formatBytes(r.snapshotBytes)}), ` +
          `${r.partials} interrupted downloads (${formatBytes(r.partialBytes)}), ${r.leftovers.length} leftovers of killed processes (${formatBytes(left)})`,
        `Total reclaimed space: ${formatBytes(r.bytes + r.snapshotBytes + r.partialBytes + left)}`,
      ];
      printOut(lines.map((l) => `${l}\n`).join(''));
    });
}
