// skiff network attach | detach | check NETNS: cnitool-like ADD, DEL and CHECK of one network namespace.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import type { RuntimeConfig } from '../../network/cni/runtime-config.js';
import { DEFAULT_NETWORK } from '../../network/networks.js';
import { checkPortMappings, parsePortMapping } from '../../network/port-mapping.js';
import { networkServices, printJson } from './network-services.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** The container id the plugins see: --id, or the namespace argument with anything but [A-Za-z0-9_.-] replaced. */
const containerIdOf = (ns: string, id?: string) => id ?? ns.replace(/^\/+/, '').replace(/[^\w.-]/g, '_');

interface AttachFlags { network: string; publish: string[]; ip: string[]; mac?: string; ifname: string; id?: string }

export function register(net: Command): void {
  net.command('attach').description('attach a network namespace to a network and print the CNI result')
    .argument('<netns>', 'a path, a name under /run/netns, or a name under skiff\'s netns directory')
    .option('--network <name>', 'network', DEFAULT_NETWORK)
    .option('-p, --publish <port>', '[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp] (repeatable)', collect, [] as string[])
    .option('--ip <address>', 'static address with prefix, e.g. 10.89.0.9/16 (repeatable)', collect, [] as string[])
    .option('--mac <address>', 'MAC address of the interface')
    .option('--ifname <name>', 'interface name inside', 'eth0')
    .option('--id <id>', 'container id for the plugins (default: from the namespace argument)')
    .action(async (ns: string, o: AttachFlags, cmd: Command) => {
      const { networks, netns } = networkServices(cmd);
      const path = netns.resolve(ns);
      const portMappings = o.publish.map(parsePortMapping);
      checkPortMappings(portMappings);
      if (o.mac !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(o.mac)) throw new SkiffError(`--mac: "${o.mac}" is not a MAC address like 02:42:0a:59:00:09`, 'EINVAL');
      const runtimeConfig: RuntimeConfig = {
        ...(portMappings.length ? { portMappings } : {}), ...(o.ip.length ? { ips: o.ip } : {}), ...(o.mac ? { mac: o.mac } : {}),
      };
      printJson(await networks.attach(o.network, { containerId: containerIdOf(ns, o.id), netns: path, ifName: o.ifname, runtimeConfig }));
    });

  net.command('detach').description('detach a network namespace from a network (fine when already detached or gone)')
    .argument('<netns>')
    .option('--network <name>', 'network', DEFAULT_NETWORK)
    .option('--ifname <name>', 'interface name inside', 'eth0')
    .option('--id <id>', 'container id used at attach (default: from the namespace argument)')
    .action(async (ns: string, o: { network: string; ifname: string; id?: string }, cmd: Command) => {
      const { networks, netns } = networkServices(cmd);
      // DEL must work for a namespace that is already gone, so a missing one is not an error here.
      let path: string;
      try {
        path = netns.resolve(ns);
      } catch {
        path = ns.startsWith('/') ? ns : netns.path(ns);
      }
      await networks.detach(o.network, { containerId: containerIdOf(ns, o.id), netns: path, ifName: o.ifname });
    });

  net.command('check').description('CHECK an attachment: the plugins confirm it is as attached').argument('<netns>')
    .option('--network <name>', 'network', DEFAULT_NETWORK)
    .option('--ifname <name>', 'interface name inside', 'eth0')
    .option('--id <id>', 'container id used at attach (default: from the namespace argument)')
    .action(async (ns: string, o: { network: string; ifname: string; id?: string }, cmd: Command) => {
      const { networks, netns } = networkServices(cmd);
      await networks.check(o.network, { containerId: containerIdOf(ns, o.id), netns: netns.resolve(ns), ifName: o.ifname });
    });
}
