// skiff-runtime list: the containers under --root (runc list).
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { runtimeFor } from './context.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  program.command('list')
    .alias('ls')
    .description('list containers')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'print only the container ids')
    .action(async (o: { format: string; quiet?: boolean }, cmd: Command) => {
      if (o.format !== 'table' && o.format !== 'json') {
        throw new SkiffError(`--format: must be "table" or "json", not "${o.format}"`, 'EINVAL');
      }
      const states = await runtimeFor(cmd).list();
      if (o.quiet) {
        printOut(states.map((s) => s.id + '\n').join(''));
      } else if (o.format === 'json') {
        printOut(JSON.stringify(states) + '\n');
      } else {
        const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
        for (const s of states) {
          const x = s as typeof s & { created?: string; owner?: string };
          rows.push([s.id, String(s.pid ?? 0), s.status, s.bundle, x.created ?? '', x.owner || 'root']);
        }
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        printOut(rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd() + '\n').join(''));
      }
    });
}
