// skiff-runtime kill: send a signal to the container's init, or with --all to every process in it.
import type { Command } from 'commander';
import { runtimeFor } from './context.js';

export function register(program: Command): void {
  program.command('kill')
    .description('send a signal (default SIGTERM) to the container')
    .argument('<container-id>')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to all processes in the container')
    .action(async (id: string, signal: string, o: { all?: boolean }, cmd: Command) => {
      await runtimeFor(cmd).kill(id, signal, { all: o.all });
    });
}
