// skiff create [flags] IMAGE [COMMAND...]: docker create. The container exists (record, name, rootfs, volumes) and
// nothing runs; its ID is printed. A missing image is pulled first, as skiff run does.
import type { Command } from 'commander';
import { containerConfig, containerOptions, type ContainerFlags } from './container-flags.js';
import { contextOf } from './context.js';
import { engineOf } from './engine-of.js';
import { createInPod } from './pod-member.js';
import { pullMissing } from './pull-missing.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  containerOptions(program.command('create')
    .description('create a new container')
    .argument('<image>')
    .argument('[command...]'))
    .passThroughOptions()
    .action(async (image: string, command: string[], f: ContainerFlags, cmd: Command) => {
      const engine = engineOf(cmd);
      const req = { image, name: f.name, config: containerConfig(f, command), pullMissing: pullMissing(contextOf(cmd).root, image, Boolean(f.quiet)) };
      const rec = f.pod !== undefined ? (await createInPod(engine, f.pod, req)).rec : await engine.create(req);
      printOut(`${rec.id}\n`);
    });
}
