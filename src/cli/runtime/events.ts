// skiff-runtime events: container statistics and OOM notifications as JSON lines (runc events).
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { runtimeFor } from './context.js';

/** runc takes Go durations: 5s, 100ms, 1m. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!m) throw new SkiffError(`--interval: "${value}" is not a duration (e.g. 5s, 500ms)`, 'EINVAL');
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  if (n <= 0) throw new SkiffError('--interval: must be greater than zero', 'EINVAL');
  return n;
}

export function register(program: Command): void {
  program.command('events')
    .description('display container events such as OOM notifications and resource statistics')
    .argument('<container-id>')
    .option('--interval <duration>', 'interval between stats events', '5s')
    .option('--stats', 'print the container\'s stats once and exit')
    .action(async (id: string, o: { interval: string; stats?: boolean }, cmd: Command) => {
      const rt = runtimeFor(cmd);
      const interval = parseDuration(o.interval);
      const print = (ev: object) => process.stdout.write(JSON.stringify(ev) + '\n');
      if (o.stats) {
        print({ type: 'stats', id, data: await rt.stats(id) });
        return;
      }
      const cgroup = await rt.cgroupOf(id);
      const stopOom = cgroup.onOom(() => print({ type: 'oom', id }));
      try {
        for (;;) {
          const state = await rt.state(id).catch(() => undefined);
          if (!state || state.status === 'stopped') break;
          print({ type: 'stats', id, data: await rt.stats(id) });
          await new Promise((r) => setTimeout(r, interval));
        }
      } finally {
        stopOom();
      }
    });
}
