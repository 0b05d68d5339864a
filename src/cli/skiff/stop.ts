// skiff stop [-t SECONDS] [-s SIGNAL] CONTAINER...: docker stop: the stop signal, then SIGKILL after the timeout.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';

export function parseTimeout(value: string | undefined, flag = '-t'): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new SkiffError(`${flag} ${value}: expected a number of seconds`, 'EINVAL');
  return Math.max(0, Number(value));
}

export function register(program: Command): void {
  program.command('stop')
    .description('stop one or more running containers')
    .argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container (default: its --stop-timeout, else 10)')
    .option('-s, --signal <signal>', 'signal to send instead of the container\'s stop signal')
    .action(async (refs: string[], o: { time?: string; signal?: string }, cmd: Command) => {
      const engine = engineOf(cmd);
      const timeout = parseTimeout(o.time);
      await eachContainer(refs, async (ref) => {
        await engine.stop(ref, timeout, o.signal);
        return ref;
      });
    });
}
