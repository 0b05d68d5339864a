// skiff network ls | create | inspect | rm, and the attach/detach and netns subcommands from their own files.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import * as attach from './network-attach.js';
import * as netnsCommands from './network-netns.js';
import { networkServices, printJson } from './network-services.js';
import { printErr, printOut } from '../common/print.js';

export function register(program: Command): void {
  const net = program.command('network');

  net.command('ls').description('list networks').action(async (_o: unknown, cmd: Command) => {
    const { networks } = networkServices(cmd);
    await networks.ensureDefault();
    const { networks: all, broken } = await networks.list();
    for (const b of broken) printErr(`skiff: warning: ${b.message}\n`);
    const rows = [['NAME', 'VERSION', 'PLUGINS', 'FILE'], ...all.map((n) => [n.name, n.cniVersion, n.plugins.map((p) => p.type).join(','), n.file])];
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    printOut(rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n').join(''));
  });

  net.command('create').description('create a network (a conflist under skiff\'s root)').argument('<name>')
    .option('-d, --driver <driver>', 'bridge, macvlan or ipvlan', 'bridge')
    .requiredOption('--subnet <cidr>', 'IPv4 subnet, e.g. 10.90.0.0/24')
    .option('--gateway <ip>', 'gateway address (default: the first address of the subnet)')
    .option('--parent <iface>', 'host interface under a macvlan/ipvlan network')
    .option('--bridge <name>', 'bridge device name (bridge driver; default skiff-NAME)')
    .action(async (name: string, o: { driver: string; subnet: string; gateway?: string; parent?: string; bridge?: string }, cmd: Command) => {
      if (o.driver !== 'bridge' && o.driver !== 'macvlan' && o.driver !== 'ipvlan') throw new SkiffError(`--driver: "${o.driver}" is not bridge, macvlan or ipvlan`, 'EINVAL');
      if (o.driver === 'bridge' && o.parent) throw new SkiffError('--parent: only for macvlan and ipvlan networks (a bridge takes --bridge)', 'EINVAL');
      if (o.driver !== 'bridge' && o.bridge) throw new SkiffError(`--bridge: only for bridge networks (a ${o.driver} network takes --parent)`, 'EINVAL');
      const created = await networkServices(cmd).networks.create({
        name, driver: o.driver, subnet: o.subnet, gateway: o.gateway, device: o.driver === 'bridge' ? o.bridge : o.parent,
      });
      printOut(created.name + '\n');
    });

  net.command('inspect').description('print networks: configuration and attachments').argument('<name...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const { networks } = networkServices(cmd);
      const out = [];
      for (const n of names) out.push(await networks.inspect(n));
      printJson(out);
    });

  net.command('rm').description('remove networks skiff created').argument('<name...>').action(async (names: string[], _o: unknown, cmd: Command) => {
    const { networks } = networkServices(cmd);
    for (const n of names) await networks.remove(n);
  });

  attach.register(net);
  netnsCommands.register(net);
}
