// skiff tag SOURCE TARGET: another name for the same manifest.
import type { Command } from 'commander';
import { ImageStore } from '../../image/image-store.js';
import { findImage } from '../../image/image-summary.js';
import { normalizeReference } from '../../image/reference.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('tag').description('give an image another name').argument('<source>').argument('<target>')
    .action(async (source: string, target: string, _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const name = normalizeReference(target);
      const rec = await findImage(root, source);
      await new ImageStore(root).put(name, rec.target, { source: rec.source, platform: rec.platform });
    });
}
