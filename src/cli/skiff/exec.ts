// skiff exec [-d] [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND...: docker exec. The process gets the
// container's environment and user unless told otherwise; skiff exits with its status (126/127 when the command
// cannot be run or found, as docker).
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { commandFailure } from '../../engine/command-failure.js';
import { engineOf } from './engine-of.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program.command('exec')
    .description('run a command in a running container')
    .argument('<container>')
    .argument('<command...>')
    .option('-d, --detach', 'run the command in the background')
    .option('-i, --interactive', 'keep STDIN open')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'username or UID, and optionally group or GID')
    .passThroughOptions()
    .action(async (ref: string, command: string[], o: { detach?: boolean; interactive?: boolean; tty?: boolean; env: string[]; workdir?: string; user?: string }, cmd: Command) => {
      if (o.tty && !o.detach && !process.stdin.isTTY) throw new SkiffError('-t: standard input is not a terminal', 'EINVAL');
      if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw new SkiffError(`-w ${o.workdir}: the working directory must be an absolute path`, 'EINVAL');
      try {
        const result = await engineOf(cmd).exec(ref, {
          command, env: o.env, workdir: o.workdir, user: o.user, tty: Boolean(o.tty), detach: Boolean(o.detach),
          // Without -i the process's stdin is /dev/null, as docker's.
          stdio: [o.interactive || o.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'],
        });
        if (o.detach) return;
        const exit = await result.exit!;
        process.exitCode = exit.signal ? 128 + exit.signal : exit.exitCode;
      } catch (err) {
        const failure = commandFailure(err, command[0]);
        if (failure) process.exitCode = failure.exitStatus;
        throw failure ?? err;
      }
    });
}
