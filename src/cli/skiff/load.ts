// skiff load -i FILE|DIR [--name NAME] [--platform os/arch[/variant]]: docker-archive, oci-archive or OCI layout
// directory.
import type { Command } from 'commander';
import { loadArchive } from '../../image/archive/load.js';
import { parsePlatform } from '../../image/platform.js';
import { contextOf } from './context.js';
import { interruptible } from './interruptible.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  program.command('load')
    .requiredOption('-i, --input <path>', 'archive file or OCI layout directory')
    .option('--name <name>', 'name for the image (when the archive does not give a full one)')
    .option('--platform <os/arch[/variant]>', 'platform to choose from a multi-platform image (default: this host)')
    .action(async (o: { input: string; name?: string; platform?: string }, cmd: Command) => {
      const platform = o.platform ? parsePlatform(o.platform) : undefined;
      const root = contextOf(cmd).root;
      const names = await interruptible((signal) => loadArchive(root, o.input, { name: o.name, platform, signal }));
      for (const n of names) printOut(`Loaded image: ${n}\n`);
    });
}
