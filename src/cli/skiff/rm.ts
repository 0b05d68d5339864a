// skiff rm [-f] [-v] CONTAINER...: docker rm. A running container needs -f (then it is killed); -v also removes
// its anonymous volumes.
import type { Command } from 'commander';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';

export function register(program: Command): void {
  program.command('rm')
    .description('remove one or more containers')
    .argument('<container...>')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'remove anonymous volumes associated with the container')
    .action(async (refs: string[], o: { force?: boolean; volumes?: boolean }, cmd: Command) => {
      const engine = engineOf(cmd);
      await eachContainer(refs, async (ref) => {
        await engine.remove(ref, { force: o.force, volumes: o.volumes });
        return ref;
      });
    });
}
