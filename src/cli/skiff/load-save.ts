// skiff load -i FILE | DIR, skiff save -o FILE IMAGE: OCI image layouts and oci-archives.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { loadOciLayout, saveOciArchive } from '../../image/archive/oci-layout.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('load')
    .description('load images from an oci-archive or an OCI layout directory')
    .requiredOption('-i, --input <path>', 'oci-archive file or OCI layout directory')
    .option('--name <name>', 'name for the image (when the layout does not name it)')
    .action(async (o: { input: string; name?: string }, cmd: Command) => {
      for (const n of await loadOciLayout(contextOf(cmd).root, o.input, o.name)) process.stdout.write(`Loaded image: ${n}\n`);
    });
  program.command('save')
    .description('save an image to an oci-archive')
    .requiredOption('-o, --output <file>', 'archive to write')
    .option('--format <format>', 'oci-archive (docker-archive is not supported yet)', 'oci-archive')
    .argument('<image>')
    .action(async (image: string, o: { output: string; format: string }, cmd: Command) => {
      if (o.format !== 'oci-archive') throw new SkiffError(`--format: "${o.format}" is not supported yet (oci-archive is)`, 'ENOTSUP');
      await saveOciArchive(contextOf(cmd).root, image, o.output);
    });
}
