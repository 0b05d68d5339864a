// skiff kill [-s SIGNAL] CONTAINER...: docker kill (SIGKILL unless told).
import type { Command } from 'commander';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';

export function register(program: Command): void {
  program.command('kill')
    .description('kill one or more running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'signal to send', 'KILL')
    .action(async (refs: string[], o: { signal: string }, cmd: Command) => {
      const engine = engineOf(cmd);
      await eachContainer(refs, async (ref) => {
        await engine.kill(ref, o.signal);
        return ref;
      });
    });
}
