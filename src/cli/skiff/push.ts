// skiff push [-q] [--authfile FILE] IMAGE: the image's blobs the registry lacks, then its manifest. Prints name@digest.
import type { Command } from 'commander';
import { push } from '../../image/push.js';
import { defaultAuthFile } from '../../image/registry/credentials.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('push').argument('<image>')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .option('-q, --quiet', 'print only the pushed reference')
    .action(async (image: string, o: { quiet?: boolean; authfile: string }, cmd: Command) => {
      const log = o.quiet ? undefined : (l: string) => void process.stderr.write(l + '\n');
      process.stdout.write(await push(contextOf(cmd).root, image, { log, authFile: o.authfile }) + '\n');
    });
}
