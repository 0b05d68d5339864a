// skiff port CONTAINER [PRIVATE_PORT[/PROTO]]: docker port. The ports a running container publishes, from its
// record: "80/tcp -> 0.0.0.0:8080" for each, or the host addresses of the one asked for, in docker's natural order.
// A container that is not running publishes nothing.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { engineOf } from './engine-of.js';
import { printOut } from '../common/print.js';

const PROTOCOLS = ['tcp', 'udp', 'sctp'];

/** Go's net.JoinHostPort: an IPv6 address in brackets. */
const joinHostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** sortorder.NaturalLess, as docker sorts the lines: runs of digits compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a), y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const bothDigits = /^\d/.test(x[i]) && /^\d/.test(y[i]);
    if (bothDigits && Number(x[i]) !== Number(y[i])) return Number(x[i]) - Number(y[i]);
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

function parsePrivatePort(spec: string): { port: number; protocol: string } {
  const [port, protocol = 'tcp'] = spec.split('/', 2);
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw new SkiffError(`invalid port "${spec}": expected PRIVATE_PORT[/PROTO] with a port from 1 to 65535`, 'EINVAL');
  if (!PROTOCOLS.includes(protocol)) throw new SkiffError(`invalid port "${spec}": the protocol must be ${PROTOCOLS.join(', ')}`, 'EINVAL');
  return { port: n, protocol };
}

export function register(program: Command): void {
  program.command('port')
    .argument('<container>')
    .argument('[private-port]', 'PRIVATE_PORT[/PROTO] (tcp when not given)')
    .action(async (ref: string, spec: string | undefined, _o: unknown, cmd: Command) => {
      const wanted = spec === undefined ? undefined : parsePrivatePort(spec);
      const view = await engineOf(cmd).inspect(ref);
      const ports = view.status === 'running' || view.status === 'paused' ? view.record.network?.ports ?? [] : [];
      let lines: string[];
      if (wanted) {
        lines = ports.filter((p) => p.containerPort === wanted.port && p.protocol === wanted.protocol).map((p) => joinHostPort(p.hostIP, p.hostPort));
        if (!lines.length) throw new SkiffError(`No public port '${wanted.port}/${wanted.protocol}' published for ${ref}`, 'ENOENT');
      } else {
        lines = ports.map((p) => `${p.containerPort}/${p.protocol} -> ${joinHostPort(p.hostIP, p.hostPort)}`);
      }
      printOut(lines.sort(naturalCompare).map((l) => `${l}\n`).join(''));
    });
}
