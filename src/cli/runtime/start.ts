// skiff-runtime start: run the user process of a created container (runc start).
import type { Command } from 'commander';
import { runtimeFor } from './context.js';

export function register(program: Command): void {
  program.command('start')
    .description('start a created container')
    .argument('<container-id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await runtimeFor(cmd).start(id);
    });
}
