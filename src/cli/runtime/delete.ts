// skiff-runtime delete: remove the container and everything create made.
import type { Command } from 'commander';
import { runtimeFor } from './context.js';

export function register(program: Command): void {
  program.command('delete')
    .description('delete a container')
    .argument('<container-id...>')
    .option('-f, --force', 'kill the container first if it is still running')
    .action(async (ids: string[], o: { force?: boolean }, cmd: Command) => {
      const rt = runtimeFor(cmd);
      for (const id of ids) await rt.delete(id, { force: o.force });
    });
}
