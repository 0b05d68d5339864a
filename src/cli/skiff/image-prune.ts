// skiff image prune: garbage collection of blobs, unpacked layers and interrupted downloads nothing uses.
import type { Command } from 'commander';
import { gc } from '../../image/gc.js';
import { contextOf } from './context.js';
import { imageCommand } from './image-command.js';
import { formatBytes } from './transfer-progress.js';

export function register(program: Command): void {
  imageCommand(program).command('prune').description('remove blobs, unpacked layers and interrupted downloads no image or container uses')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await gc(contextOf(cmd).root);
      process.stdout.write(`Removed ${r.blobs} blobs (${formatBytes(r.bytes)}), ${r.snapshots} unpacked layers, ${r.partials} interrupted downloads\n`);
    });
}
