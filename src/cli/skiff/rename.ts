// skiff rename CONTAINER NEW_NAME: docker rename.
import type { Command } from 'commander';
import { engineOf } from './engine-of.js';

export function register(program: Command): void {
  program.command('rename')
    .description('rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (ref: string, name: string, _o: unknown, cmd: Command) => {
      await engineOf(cmd).rename(ref, name);
    });
}
