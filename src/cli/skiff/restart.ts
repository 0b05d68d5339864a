// skiff restart [-t SECONDS] CONTAINER...: docker restart: stop, then start; the container (record, name, rootfs
// changes, volumes) stays the same one.
import type { Command } from 'commander';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';
import { parseTimeout } from './stop.js';

export function register(program: Command): void {
  program.command('restart')
    .description('restart one or more containers')
    .argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait for stop before killing the container')
    .action(async (refs: string[], o: { time?: string }, cmd: Command) => {
      const engine = engineOf(cmd);
      const timeout = parseTimeout(o.time);
      await eachContainer(refs, async (ref) => {
        await engine.restart(ref, timeout);
        return ref;
      });
    });
}
