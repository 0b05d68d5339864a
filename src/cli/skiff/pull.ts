// skiff pull [--platform os/arch[/variant]] [-q] [--authfile FILE] IMAGE: download the image and unpack its
// layers, so it is ready to run (or, for a tag already there and unchanged, say it is up to date). Prints the
// image's name.
import type { Command } from 'commander';
import { parsePlatform } from '../../image/platform.js';
import { pull } from '../../image/pull.js';
import { defaultAuthFile } from '../../image/registry/credentials.js';
import { contextOf } from './context.js';
import { transferProgress } from './transfer-progress.js';

export function register(program: Command): void {
  program.command('pull').argument('<image>')
    .option('--platform <os/arch[/variant]>', 'platform to choose from a multi-platform image, and that the image must be for (default: this host, from a multi-platform image)')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .option('-q, --quiet', 'print only the image name')
    .action(async (image: string, o: { platform?: string; quiet?: boolean; authfile: string }, cmd: Command) => {
      const root = contextOf(cmd).root;
      const platform = o.platform ? parsePlatform(o.platform) : undefined;
      const progress = transferProgress({ quiet: o.quiet });
      let name: string;
      try {
        name = await pull(root, image, { platform, authFile: o.authfile, onProgress: progress.onProgress, log: progress.log, unpack: true });
      } finally {
        progress.stop();
      }
      process.stdout.write(name + '\n');
    });
}
