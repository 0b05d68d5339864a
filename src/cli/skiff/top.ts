// skiff top CONTAINER [ps OPTIONS]: docker top. The container's processes as the host's ps shows them (default
// -ef: UID PID PPID C STIME TTY TIME CMD), in docker's columns (tabwriter cells of at least 20).
import type { Command } from 'commander';
import { engineOf } from './engine-of.js';
import { alignTabs } from './format-template.js';
import { printOut } from '../common/print.js';

const TOP_MIN_WIDTH = 20;

export function register(program: Command): void {
  program.command('top')
    .argument('<container>')
    .argument('[ps-options...]', 'options for ps(1), as docker passes them (default: -ef)')
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (ref: string, psArgs: string[], _o: unknown, cmd: Command) => {
      const { titles, processes } = await engineOf(cmd).top(ref, psArgs);
      printOut(alignTabs([titles, ...processes].map((row) => row.join('\t')), TOP_MIN_WIDTH));
    });
}
