// skiff wait CONTAINER...: docker wait: blocks until each container stops, then prints its exit code.
import type { Command } from 'commander';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';

export function register(program: Command): void {
  program.command('wait')
    .description('block until one or more containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const engine = engineOf(cmd);
      await eachContainer(refs, async (ref) => String(await engine.wait(ref)));
    });
}
