// skiff images [-q] [--format table|json]: the images in the local store.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { ImageStore } from '../../image/image-store.js';
import { summarize } from '../../image/image-summary.js';
import { contextOf } from './context.js';
import { formatBytes } from './transfer-progress.js';

export function register(program: Command): void {
  program.command('images')
    .description('list images in the local store')
    .option('-q, --quiet', 'print only the names')
    .option('--format <format>', 'table or json', 'table')
    .action(async (o: { quiet?: boolean; format: string }, cmd: Command) => {
      if (o.format !== 'table' && o.format !== 'json') throw new SkiffError(`--format: "${o.format}" is not table or json`, 'EINVAL');
      const root = contextOf(cmd).root;
      const records = await new ImageStore(root).list();
      if (o.quiet) return void process.stdout.write(records.map((i) => i.name + '\n').join(''));
      const images = await Promise.all(records.map((r) => summarize(root, r)));
      if (o.format === 'json') {
        const out = images.map((i) => ({
          name: i.name, digest: i.target.digest, mediaType: i.target.mediaType, created: i.config.created ?? null, size: i.size,
          platform: i.platform ?? `${i.config.os}/${i.config.architecture}${i.config.variant ? `/${i.config.variant}` : ''}`, named: i.created,
        }));
        return void process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      }
      const rows = [['NAME', 'DIGEST', 'CREATED', 'SIZE'],
        ...images.map((i) => [i.name, i.target.digest.slice(7, 19), i.config.created ?? '', formatBytes(i.size)])];
      const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
      process.stdout.write(rows.map((r) => r.map((cell, c) => cell.padEnd(w[c])).join('  ').trimEnd() + '\n').join(''));
    });
}
