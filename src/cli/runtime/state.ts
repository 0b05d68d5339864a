// skiff-runtime state: print the state document (runtime-spec runtime.md "State"), as runc does.
import type { Command } from 'commander';
import { runtimeFor } from './context.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  program.command('state')
    .description('output the state of a container')
    .argument('<container-id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      printOut(JSON.stringify(await runtimeFor(cmd).state(id), null, '  ') + '\n');
    });
}
