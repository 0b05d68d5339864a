// skiff-runtime pause / resume: freeze and thaw every process of a container with the freezer cgroup.
import type { Command } from 'commander';
import { runtimeFor } from './context.js';

export function register(program: Command): void {
  program.command('pause')
    .description('suspend all processes inside the container')
    .argument('<container-id>')
    .action(async (id: string, _o: unknown, cmd: Command) => runtimeFor(cmd).pause(id));
  program.command('resume')
    .description('resume all processes that have been previously paused')
    .argument('<container-id>')
    .action(async (id: string, _o: unknown, cmd: Command) => runtimeFor(cmd).resume(id));
}
