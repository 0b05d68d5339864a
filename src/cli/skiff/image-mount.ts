// skiff image mount [--writable] IMAGE: unpack the image if needed, mount its layers (read-only, or with an upper
// directory of its own) and print the path. Mounting an image mounted already, the same way, prints the same path.
import type { Command } from 'commander';
import { mountImage } from '../../image/image-mount.js';
import { contextOf } from './context.js';
import { imageCommand } from './image-command.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  imageCommand(program).command('mount')
    .argument('<image>', 'image name or ID')
    .option('--writable', 'give the mount its own upper directory (changes are dropped at unmount, and when the mount goes: a reboot)')
    .action(async (image: string, o: { writable?: boolean }, cmd: Command) => {
      printOut(`${await mountImage(contextOf(cmd).root, image, { writable: o.writable })}\n`);
    });
}
