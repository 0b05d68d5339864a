// skiff save -o FILE [--format oci-archive|docker-archive] IMAGE.
import type { Command } from 'commander';
import { saveArchive, type ArchiveFormat } from '../../image/archive/save.js';
import { contextOf } from './context.js';
import { interruptible } from './interruptible.js';

export function register(program: Command): void {
  program.command('save')
    .requiredOption('-o, --output <file>', 'archive to write')
    .option('--format <format>', 'oci-archive or docker-archive', 'oci-archive')
    .argument('<image>')
    .action(async (image: string, o: { output: string; format: string }, cmd: Command) => {
      const root = contextOf(cmd).root;
      await interruptible((signal) => saveArchive(root, image, o.output, o.format as ArchiveFormat, signal));
    });
}
