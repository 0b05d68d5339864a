// skiff rmi IMAGE...: every name is checked before any is removed; then blobs and unpacked layers nothing uses any
// more are collected.
import type { Command } from 'commander';
import { gc } from '../../image/gc.js';
import { ImageStore } from '../../image/image-store.js';
import { findImage } from '../../image/image-summary.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('rmi').description('remove images (and what only they used)').argument('<image...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const recs = await Promise.all(names.map((n) => findImage(root, n, { builtIn: false })));
      const store = new ImageStore(root);
      for (const r of recs) {
        await store.delete(r.name);
        process.stdout.write(`Untagged: ${r.name}\n`);
      }
      const swept = await gc(root);
      if (swept.blobs || swept.snapshots) process.stdout.write(`Deleted: ${swept.blobs} blobs, ${swept.snapshots} unpacked layers\n`);
    });
}
