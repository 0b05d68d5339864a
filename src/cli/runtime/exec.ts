// skiff-runtime exec: run a new process inside a container (runc exec), from --process FILE or the arguments.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import type { Process } from '../../oci/runtime-spec.js';
import { intFlag, runtimeFor } from './context.js';

interface ExecFlags {
  process?: string;
  consoleSocket?: string;
  cwd?: string;
  env: string[];
  tty?: boolean;
  user?: string;
  additionalGids: number[];
  cap: string[];
  noNewPrivs?: boolean;
  detach?: boolean;
  pidFile?: string;
  preserveFds: number;
  processLabel?: string;
  apparmor?: string;
}

const EXEC_FAILED = 255;

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program.command('exec')
    .description('execute a new process inside the container')
    .argument('<container-id>')
    .argument('[command...]')
    .option('-p, --process <file>', 'path to a process.json (runtime-spec Process)')
    .option('--console-socket <path>', 'unix socket that receives the pty master (with --tty)')
    .option('--cwd <dir>', 'current working directory in the container')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-u, --user <uid[:gid]>', 'user id and optional group id')
    .option('-g, --additional-gids <gid>', 'additional group id (repeatable)', (v: string, p: number[]) => [...p, intFlag('--additional-gids')(v)], [] as number[])
    .option('-c, --cap <CAP_NAME>', 'add a capability to the bounding, effective, permitted and ambient sets (repeatable)', collect, [])
    .option('--no-new-privs', 'set the no_new_privs bit for the process')
    .option('-d, --detach', 'detach from the process')
    .option('--pid-file <path>', 'file to write the process id to')
    .option('--preserve-fds <n>', 'pass N additional file descriptors to the process', intFlag('--preserve-fds'), 0)
    .option('--process-label <label>', 'SELinux label for the process')
    .option('--apparmor <profile>', 'AppArmor profile for the process')
    .passThroughOptions()
    .action(async (id: string, command: string[], o: ExecFlags, cmd: Command) => {
      const rt = runtimeFor(cmd);
      const container = await rt.store.read(id).catch(() => undefined);
      const base = container?.spec.process;
      let result;
      try {
        const proc = o.process ? await readProcessFile(o.process) : argsProcess(command, o, base);
        result = await rt.exec(id, proc as Process, {
          consoleSocket: o.consoleSocket, detach: o.detach, pidFile: o.pidFile, preserveFds: o.preserveFds,
        });
      } catch (err) {
        // As runc: 255 when exec itself fails, so that it differs from the statuses of a command that ran.
        process.exitCode = EXEC_FAILED;
        throw err;
      }
      if (result.exit) process.exitCode = (await result.exit).exitCode;
    });
}

async function readProcessFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new SkiffError(`--process ${path}: ${(err as Error).message}`, 'EINVAL');
  }
}

/** Like runc: the container's process settings, with the arguments and the flags on top. */
function argsProcess(command: string[], o: ExecFlags, base: Process | undefined): Process {
  if (command.length === 0) throw new SkiffError('exec: a command is required (or --process FILE)', 'EINVAL');
  if (o.processLabel) throw new SkiffError('--process-label: SELinux is not enabled on this host', 'ENOTSUP');
  if (o.apparmor) throw new SkiffError('--apparmor: AppArmor is not enabled on this host', 'ENOTSUP');
  const proc: Process = {
    terminal: Boolean(o.tty),
    user: { ...(base?.user ?? { uid: 0, gid: 0 }) },
    args: command,
    env: [...(base?.env ?? []), ...o.env],
    cwd: o.cwd ?? base?.cwd ?? '/',
    capabilities: base?.capabilities ? structuredClone(base.capabilities) : undefined,
    noNewPrivileges: o.noNewPrivs || base?.noNewPrivileges,
    rlimits: base?.rlimits,
    apparmorProfile: base?.apparmorProfile,
    selinuxLabel: base?.selinuxLabel,
  };
  if (o.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw new SkiffError(`--user: "${o.user}" is not uid[:gid]`, 'EINVAL');
    proc.user = { uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : 0 };
  }
  if (o.additionalGids.length) proc.user.additionalGids = o.additionalGids;
  if (o.cap.length) {
    const caps = (proc.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) {
      caps[set] = [...new Set([...(caps[set] ?? []), ...o.cap])];
    }
  }
  return proc;
}
