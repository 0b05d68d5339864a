// skiff-runtime ps: processes running inside a container (runc ps): a filtered `ps` table, or the pids as JSON.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { runtimeFor } from './context.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  program.command('ps')
    .description('display the processes running inside a container')
    .argument('<container-id>')
    .argument('[ps-options...]', 'options passed to ps(1) (default -ef)')
    .option('-f, --format <format>', 'table or json', 'table')
    .passThroughOptions()
    .action(async (id: string, psArgs: string[], o: { format: string }, cmd: Command) => {
      if (o.format !== 'table' && o.format !== 'json') {
        throw new SkiffError(`--format: must be "table" or "json", not "${o.format}"`, 'EINVAL');
      }
      const pids = await runtimeFor(cmd).pids(id);
      if (o.format === 'json') {
        printOut(JSON.stringify(pids) + '\n');
        return;
      }
      const { stdout } = await promisify(execFile)('ps', psArgs.length ? psArgs : ['-ef']);
      const [header, ...lines] = stdout.split('\n');
      const pidColumn = header.trim().split(/\s+/).indexOf('PID');
      if (pidColumn < 0) throw new SkiffError(`ps ${psArgs.join(' ')}: its output has no PID column`, 'EINVAL');
      const wanted = new Set(pids);
      const rows = lines.filter((l) => wanted.has(Number(l.trim().split(/\s+/)[pidColumn])));
      printOut([header, ...rows].join('\n') + '\n');
    });
}
