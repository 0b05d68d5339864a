// skiff load -i FILE|DIR [--name NAME]: docker-archive, oci-archive or OCI layout directory.
import type { Command } from 'commander';
import { loadArchive } from '../../image/archive/load.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('load')
    .description('load images from a docker-archive, an oci-archive or an OCI layout directory')
    .requiredOption('-i, --input <path>', 'archive file or OCI layout directory')
    .option('--name <name>', 'name for the image (when the archive does not give a full one)')
    .action(async (o: { input: string; name?: string }, cmd: Command) => {
      for (const n of await loadArchive(contextOf(cmd).root, o.input, o.name)) process.stdout.write(`Loaded image: ${n}\n`);
    });
}
