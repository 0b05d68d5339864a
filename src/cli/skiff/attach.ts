// skiff attach [--no-stdin] CONTAINER: docker attach: our terminal to a running container's stdio through its
// monitor, until it exits (then skiff exits with its status) or the connection ends.
import type { Command } from 'commander';
import { attachTerminal } from './container-attach.js';
import { engineOf } from './engine-of.js';

export function register(program: Command): void {
  program.command('attach')
    .description("attach local standard input, output, and error streams to a running container")
    .argument('<container>')
    .option('--no-stdin', 'do not attach STDIN')
    .action(async (ref: string, o: { stdin: boolean }, cmd: Command) => {
      const engine = engineOf(cmd);
      const view = await engine.inspect(ref);
      const attached = await attachTerminal(engine, view.record.id, { stdin: o.stdin && view.record.config.openStdin, tty: view.record.config.tty });
      const exit = await attached.done;
      if (exit) process.exitCode = exit.signal ? 128 + exit.signal : exit.exitCode;
    });
}
