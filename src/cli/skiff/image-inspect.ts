// skiff image inspect IMAGE...: name record, manifest and config as JSON.
import type { Command } from 'commander';
import { findImage, summarize } from '../../image/image-summary.js';
import { contextOf } from './context.js';
import { imageCommand } from './image-command.js';

export function register(program: Command): void {
  imageCommand(program).command('inspect').description('show images\' records, manifests and configs as JSON').argument('<image...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const recs = await Promise.all(names.map((n) => findImage(root, n)));
      const out = [];
      for (const r of recs) {
        const s = await summarize(root, r);
        out.push({ name: s.name, digest: s.target.digest, mediaType: s.target.mediaType, named: s.created, updated: s.updated, source: s.source, platform: s.platform, size: s.size, manifest: s.manifest, config: s.config });
      }
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}
