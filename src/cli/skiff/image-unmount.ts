// skiff image unmount IMAGE: unmount what `skiff image mount` mounted and remove its upper directory.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { removeRootfs, rootfsMethod } from '../../image/rootfs.js';
import { contextOf } from './context.js';
import { imageCommand, imageMountId } from './image-mount.js';

export function register(program: Command): void {
  imageCommand(program).command('unmount').alias('umount')
    .description('unmount an image mounted with `skiff image mount`')
    .argument('<image>')
    .action(async (image: string, _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const id = imageMountId(image);
      if (rootfsMethod(root, id) === undefined) throw new SkiffError(`image "${image}" is not mounted`, 'ENOENT');
      await removeRootfs(root, id);
    });
}
