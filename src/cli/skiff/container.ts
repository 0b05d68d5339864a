// skiff container ...: docker's container management group: inspect, prune, and `cleanup`, the command the
// monitor runs when a container exits (not for users: it is what makes --rm, restart policies and teardown happen
// with no skiff process left).
import type { Command } from 'commander';
import { humanSize } from './docker-units.js';
import { engineOf } from './engine-of.js';
import { inspectContainer, printInspected } from './inspect.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  const group = program.command('container').description('manage containers');

  group.command('inspect').description('display detailed information on containers (JSON)').argument('<container...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const engine = engineOf(cmd);
      await printInspected(refs, (ref) => inspectContainer(engine, ref));
    });

  group.command('prune').description('remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (_o: unknown, cmd: Command) => {
      const { removed, reclaimed } = await engineOf(cmd).prune();
      printOut(removed.length ? `Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n` : '');
      printOut(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    });

  group.command('cleanup', { hidden: true }).description("take down an exited container's run (the monitor's exit command)").argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await engineOf(cmd).cleanup(id);
    });
}
