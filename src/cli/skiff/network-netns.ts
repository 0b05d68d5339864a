// skiff network netns add | rm | ls: network namespaces pinned under skiff's state directory (--state).
import type { Command } from 'commander';
import { networkServices } from './network-services.js';
import { printOut } from '../common/print.js';

export function register(net: Command): void {
  const ns = net.command('netns').description('network namespaces pinned under <state>/netns');
  ns.command('add').description('create a network namespace and print its path').argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      printOut(await networkServices(cmd).netns.create(name) + '\n');
    });
  ns.command('rm').description('remove network namespaces').argument('<name...>').action(async (names: string[], _o: unknown, cmd: Command) => {
    const { netns } = networkServices(cmd);
    for (const n of names) await netns.remove(n);
  });
  ns.command('ls').description('list network namespaces').action(async (_o: unknown, cmd: Command) => {
    printOut((await networkServices(cmd).netns.list()).map((n) => n + '\n').join(''));
  });
}
