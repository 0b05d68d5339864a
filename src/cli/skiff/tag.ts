// skiff tag SOURCE TARGET: another name for the same manifest. SOURCE is a name or an image ID; TARGET is a name
// with a tag: a digest in it would claim content the manifest does not have (docker refuses it the same way).
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { ImageStore } from '../../image/image-store.js';
import { resolveImage } from '../../image/image-summary.js';
import { formatReference, parseReference } from '../../image/reference.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program.command('tag').argument('<source>', 'image name or ID').argument('<target>', 'new name')
    .action(async (source: string, target: string, _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const ref = parseReference(target);
      if (ref.digest) throw new SkiffError(`tag: refusing to create a tag with a digest reference ("${target}")`, 'EINVAL');
      const { record } = (await resolveImage(root, source)).image;
      await new ImageStore(root).put(formatReference(ref), record.target, { source: record.source, platform: record.platform });
    });
}
