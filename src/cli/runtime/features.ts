// skiff-runtime features: the runtime-spec features document (features.md) describing what this build supports
// on this host.
import type { Command } from 'commander';
import { featuresDocument } from '../../runtime/features.js';
import { runtimeFor } from './context.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  program.command('features')
    .description('show the enabled features')
    .action(async (_o: unknown, cmd: Command) => {
      const host = await runtimeFor(cmd).host();
      printOut(JSON.stringify(featuresDocument(host), null, '    ') + '\n');
    });
}
