// skiff logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER: docker logs, from the monitor's log: stdout to
// our stdout, stderr to our stderr; -f follows until the container stops.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { engineOf } from './engine-of.js';

/** docker's --since/--until: an RFC 3339 time, a Unix timestamp, or a duration before now (10m, 1h30m, 45s). */
export function parseTime(input: string, flag: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?$/.test(input)) return new Date(Number(input) * 1000);
  const dur = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(input);
  if (dur && input) return new Date(now - ((Number(dur[1] ?? 0) * 60 + Number(dur[2] ?? 0)) * 60 + Number(dur[3] ?? 0)) * 1000);
  const t = Date.parse(input);
  if (Number.isNaN(t)) throw new SkiffError(`${flag} ${input}: expected a time (RFC 3339, a Unix timestamp, or a duration like 10m)`, 'EINVAL');
  return new Date(t);
}

export function register(program: Command): void {
  program.command('logs')
    .description('fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs ("all" for all)', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since a time (RFC 3339, Unix timestamp) or a duration before now (e.g. 42m)')
    .option('--until <time>', 'show logs before a time or a duration before now')
    .action(async (ref: string, o: { follow?: boolean; tail: string; timestamps?: boolean; since?: string; until?: string }, cmd: Command) => {
      if (o.tail !== 'all' && !/^-?\d+$/.test(o.tail)) throw new SkiffError(`--tail ${o.tail}: expected a number or "all"`, 'EINVAL');
      const tail = o.tail === 'all' || Number(o.tail) < 0 ? undefined : Number(o.tail);
      const since = o.since !== undefined ? parseTime(o.since, '--since') : undefined;
      const until = o.until !== undefined ? parseTime(o.until, '--until') : undefined;
      for await (const e of engineOf(cmd).logs(ref, { follow: o.follow, tail, since, until })) {
        const out = e.stream === 'stdout' ? process.stdout : process.stderr;
        if (!out.write(o.timestamps ? `${e.time} ${e.text}` : e.text)) await new Promise((r) => out.once('drain', r));
      }
    });
}
