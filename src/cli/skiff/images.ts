// skiff images: the images in the local store.
import type { Command } from 'commander';
import { ImageStore } from '../../image/image-store.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('images')
    .description('list images in the local store')
    .option('-q, --quiet', 'print only the names')
    .option('--format <format>', 'table or json', 'table')
    .action(async (o: { quiet?: boolean; format: string }, cmd: Command) => {
      const images = await new ImageStore(contextOf(cmd).root).list();
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(images) + '\n');
      if (o.quiet) return void process.stdout.write(images.map((i) => i.name + '\n').join(''));
      const rows = [['NAME', 'DIGEST', 'CREATED'], ...images.map((i) => [i.name, i.target.digest.slice(0, 19), i.created])];
      const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n').join(''));
    });
}
