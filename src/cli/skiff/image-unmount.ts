// skiff image unmount IMAGE: unmount what `skiff image mount` mounted and remove its upper directory.
import type { Command } from 'commander';
import { unmountImage } from '../../image/image-mount.js';
import { contextOf } from './context.js';
import { imageCommand } from './image-command.js';

export function register(program: Command): void {
  imageCommand(program).command('unmount').alias('umount')
    .argument('<image>', 'image name or ID')
    .action(async (image: string, _o: unknown, cmd: Command) => {
      await unmountImage(contextOf(cmd).root, image);
    });
}
