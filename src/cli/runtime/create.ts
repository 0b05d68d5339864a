// skiff-runtime create: set the container up; its process waits for `start` (runc create).
import type { Command } from 'commander';
import { intFlag, runtimeFor } from './context.js';

export function register(program: Command): void {
  program.command('create')
    .description('create a container')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('--pid-file <path>', 'file to write the container process id to')
    .option('--no-pivot', 'do not use pivot_root to jail the process inside the rootfs')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--preserve-fds <n>', 'pass N additional file descriptors to the container (3 .. 3+N-1)', intFlag('--preserve-fds'), 0)
    .action(async (id: string, o: CreateFlags, cmd: Command) => {
      await runtimeFor(cmd).create(id, createOptions(o));
    });
}

export interface CreateFlags {
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  pivot: boolean;
  newKeyring: boolean;
  preserveFds: number;
}

export function createOptions(o: CreateFlags) {
  return {
    bundle: o.bundle,
    consoleSocket: o.consoleSocket,
    pidFile: o.pidFile,
    noPivot: !o.pivot,
    noNewKeyring: !o.newKeyring,
    preserveFds: o.preserveFds,
  };
}
