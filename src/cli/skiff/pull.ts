// skiff pull [--platform os/arch[/variant]] [-q] IMAGE, skiff push [-q] IMAGE
import type { Command } from 'commander';
import { parsePlatform, pull } from '../../image/pull.js';
import { push } from '../../image/push.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('pull').description('pull an image from a registry').argument('<image>')
    .option('--platform <os/arch[/variant]>', 'platform to choose from a multi-platform image (default: this host)')
    .option('-q, --quiet', 'print only the image name')
    .action(async (image: string, o: { platform?: string; quiet?: boolean }, cmd: Command) => {
      const name = await pull(contextOf(cmd).root, image, {
        platform: o.platform ? parsePlatform(o.platform) : undefined,
        log: o.quiet ? undefined : (l) => process.stderr.write(l + '\n'),
      });
      process.stdout.write(name + '\n');
    });
  program.command('push').description('push an image to a registry').argument('<image>')
    .option('-q, --quiet', 'print only the pushed reference')
    .action(async (image: string, o: { quiet?: boolean }, cmd: Command) => {
      const pushed = await push(contextOf(cmd).root, image, o.quiet ? undefined : (l) => process.stderr.write(l + '\n'));
      process.stdout.write(pushed + '\n');
    });
}
