// skiff network ls | create | inspect | rm | attach | detach | netns add/rm/ls
import type { Command } from 'commander';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';
import { NetnsStore } from '../../network/netns.js';
import { DEFAULT_NETWORK, Networks, type PortMapping } from '../../network/networks.js';
import { contextOf } from './context.js';

function parsePort(spec: string): PortMapping {
  const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  const ok = m && [m[2], m[3]].every((p) => Number(p) >= 1 && Number(p) <= 65535);
  if (!ok) throw new SkiffError(`-p ${spec}: expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp] with ports 1-65535`, 'EINVAL');
  return { hostPort: Number(m![2]), containerPort: Number(m![3]), protocol: (m![4] ?? 'tcp') as 'tcp' | 'udp', ...(m![1] ? { hostIP: m![1] } : {}) };
}

function services(cmd: Command) {
  const ctx = contextOf(cmd);
  return { networks: new Networks({ root: ctx.root }), netns: new NetnsStore(join(ctx.state, 'netns')) };
}

const print = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');

export function register(program: Command): void {
  const net = program.command('network').description('manage CNI networks and network namespaces');

  net.command('ls').description('list networks').action(async (_o: unknown, cmd: Command) => {
    const { networks } = services(cmd);
    await networks.ensureDefault();
    const rows = [['NAME', 'VERSION', 'PLUGINS', 'FILE'], ...(await networks.list()).map((n) => [n.name, n.cniVersion, n.plugins.map((p) => p.type).join(','), n.file])];
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n').join(''));
  });

  net.command('create').description('create a network').argument('<name>')
    .option('-d, --driver <driver>', 'bridge, macvlan or ipvlan', 'bridge')
    .requiredOption('--subnet <cidr>', 'IPv4 subnet, e.g. 10.90.0.0/24')
    .option('--gateway <ip>', 'gateway address (default: the first address of the subnet)')
    .option('--parent <iface>', 'host interface for macvlan/ipvlan')
    .option('--bridge <name>', 'bridge device name (bridge driver)')
    .action(async (name: string, o: { driver: string; subnet: string; gateway?: string; parent?: string; bridge?: string }, cmd: Command) => {
      if (!['bridge', 'macvlan', 'ipvlan'].includes(o.driver)) throw new SkiffError(`--driver: "${o.driver}" is not bridge, macvlan or ipvlan`, 'EINVAL');
      const created = await services(cmd).networks.create({
        name, driver: o.driver as 'bridge', subnet: o.subnet, gateway: o.gateway, device: o.driver === 'bridge' ? o.bridge : o.parent,
      });
      process.stdout.write(created.name + '\n');
    });

  net.command('inspect').description('print a network configuration').argument('<name...>').action(async (names: string[], _o: unknown, cmd: Command) => {
    const { networks } = services(cmd);
    print(await Promise.all(names.map((n) => networks.get(n))));
  });

  net.command('rm').description('remove networks').argument('<name...>').action(async (names: string[], _o: unknown, cmd: Command) => {
    for (const n of names) await services(cmd).networks.remove(n);
  });

  net.command('attach').description('attach a network namespace to a network (prints the CNI result)').argument('<netns>')
    .option('--network <name>', 'network', DEFAULT_NETWORK)
    .option('-p, --publish <ports>', 'HOSTPORT:CTRPORT[/tcp|udp] (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--ifname <name>', 'interface name inside', 'eth0')
    .option('--id <id>', 'container id for the plugins (default: the namespace name)')
    .action(async (ns: string, o: { network: string; publish: string[]; ifname: string; id?: string }, cmd: Command) => {
      const { networks, netns } = services(cmd);
      const path = netns.resolve(ns);
      const portMappings = o.publish.map(parsePort);
      print(await networks.attach(o.network, { containerId: o.id ?? ns.replace(/[^\w.-]/g, '_'), netns: path, ifName: o.ifname, portMappings }));
    });

  net.command('detach').description('detach a network namespace from a network').argument('<netns>')
    .option('--network <name>', 'network', DEFAULT_NETWORK)
    .option('--ifname <name>', 'interface name inside', 'eth0')
    .option('--id <id>', 'container id used at attach (default: the namespace name)')
    .action(async (ns: string, o: { network: string; ifname: string; id?: string }, cmd: Command) => {
      const { networks, netns } = services(cmd);
      // DEL must work for a namespace that is already gone, so a missing one is not an error here.
      let path: string;
      try {
        path = netns.resolve(ns);
      } catch {
        path = ns.startsWith('/') ? ns : netns.path(ns);
      }
      await networks.detach(o.network, { containerId: o.id ?? ns.replace(/[^\w.-]/g, '_'), netns: path, ifName: o.ifname });
    });

  const nsCmd = net.command('netns').description('network namespaces pinned under skiff\'s state directory');
  nsCmd.command('add').argument('<name>').action(async (name: string, _o: unknown, cmd: Command) => {
    process.stdout.write(await services(cmd).netns.create(name) + '\n');
  });
  nsCmd.command('rm').argument('<name...>').action(async (names: string[], _o: unknown, cmd: Command) => {
    for (const n of names) await services(cmd).netns.remove(n);
  });
  nsCmd.command('ls').action(async (_o: unknown, cmd: Command) => {
    process.stdout.write((await services(cmd).netns.list()).map((n) => n + '\n').join(''));
  });
}
