// skiff-runtime run: create and start; in the foreground, wait and exit with the container's status (runc run).
import type { Command } from 'commander';
import { intFlag, runtimeFor } from './context.js';
import { createOptions, type CreateFlags } from './create.js';

export function register(program: Command): void {
  program.command('run')
    .description('create and run a container')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('-d, --detach', 'detach from the container process')
    .option('--keep', 'do not delete the container after it exits')
    .option('--pid-file <path>', 'file to write the container process id to')
    .option('--no-pivot', 'do not use pivot_root to jail the process inside the rootfs')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--preserve-fds <n>', 'pass N additional file descriptors to the container', intFlag('--preserve-fds'), 0)
    .action(async (id: string, o: CreateFlags & { detach?: boolean; keep?: boolean }, cmd: Command) => {
      const rt = runtimeFor(cmd);
      if (o.detach) {
        await rt.create(id, createOptions(o));
        await rt.start(id);
        return;
      }
      const { exitCode } = await rt.run(id, { ...createOptions(o), keep: o.keep });
      process.exitCode = exitCode;
    });
}
