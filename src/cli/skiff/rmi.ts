// skiff rmi [-f] IMAGE...: each name or ID on its own, as docker does: what can be removed is, each failure is one
// error line, and the exit status is 1 if any failed. Then blobs and unpacked layers nothing uses any more are
// collected.
import type { Command } from 'commander';
import { gc } from '../../image/gc.js';
import { removeImage } from '../../image/image-remove.js';
import { errorLine } from '../common/run-cli.js';
import { contextOf } from './context.js';
import { printErr, printOut } from '../common/print.js';

export function register(program: Command): void {
  program.command('rmi').argument('<image...>', 'image names or IDs')
    .option('-f, --force', 'remove even an image a container or an image mount uses, and every name of an image ID')
    .action(async (inputs: string[], o: { force?: boolean }, cmd: Command) => {
      const root = contextOf(cmd).root;
      let removed = false;
      for (const input of inputs) {
        try {
          const r = await removeImage(root, input, { force: o.force });
          printOut(r.untagged.map((n) => `Untagged: ${n}\n`).join('') + (r.deleted ? `Deleted: ${r.deleted}\n` : ''));
          removed = true;
        } catch (err) {
          printErr(`${errorLine('skiff', err)}\n`);
          process.exitCode = 1;
        }
      }
      if (removed) await gc(root);
    });
}
