// skiff image mount [--writable] IMAGE: unpack the image if needed and mount its layers (read-only, or with an
// upper directory of its own), print the path. Mounting an image that is mounted already prints the same path.
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { localImage } from '../../image/local-image.js';
import { formatReference, parseReference } from '../../image/reference.js';
import { prepareRootfs, rootfsMethod, rootfsPath } from '../../image/rootfs.js';
import { contextOf } from './context.js';

/** The rootfs id of an image's mount: one per image name, beside the containers' (so GC keeps its snapshots). */
export function imageMountId(image: string): string {
  return `image-mount-${createHash('sha256').update(formatReference(parseReference(image))).digest('hex').slice(0, 16)}`;
}

export function imageCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'image') ?? program.command('image').description('image details and maintenance');
}

export function register(program: Command): void {
  imageCommand(program).command('mount')
    .description('mount an image\'s root filesystem and print its path')
    .argument('<image>')
    .option('--writable', 'give the mount its own upper directory (changes are dropped at unmount)')
    .action(async (image: string, o: { writable?: boolean }, cmd: Command) => {
      const root = contextOf(cmd).root;
      const id = imageMountId(image);
      if (rootfsMethod(root, id) === undefined) {
        const img = await localImage(root, image);
        await prepareRootfs(root, id, img.layers, { readonly: !o.writable });
      }
      process.stdout.write(`${rootfsPath(root, id)}\n`);
    });
}
