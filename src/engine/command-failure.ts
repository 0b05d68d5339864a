// docker run's exit statuses for a container command that cannot be run (docker run reference, "Exit status"):
// 127 when it cannot be found, 126 when it is found but cannot be invoked. The native helper reports either as a
// failing step with its errno: resolve-exec (the execvp(3)-like search of the container's $PATH, as the
// container's user) or exec (execve(2) itself). Another runtime's binary (a runtime handler) reports it in words.
import { SkiffError } from '../common/errors.js';
import { describeErrno, LaunchError } from '../native/launcher.js';
import { ProgramNotRun } from '../runtime/program-not-run.js';

/** execve(2): ENOENT, the file or a directory on its path is missing; ENOTDIR, a component is not a directory. */
const NOT_FOUND: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR']);

export class CommandFailure extends SkiffError {
  constructor(message: string, readonly exitStatus: number) {
    super(message, 'ECOMMAND');
    this.name = 'CommandFailure';
  }
}

/** If `err` says the container's command (`command`, its args[0]) could not be run: the error to report instead. */
export function commandFailure(err: unknown, command: string): CommandFailure | undefined {
  if (err instanceof ProgramNotRun) return new CommandFailure(err.message, err.notFound ? 127 : 126);
  if (!(err instanceof LaunchError) || (err.step?.op !== 'resolve-exec' && err.step?.op !== 'exec')) return undefined;
  const exitStatus = NOT_FOUND.has(err.errnoName) ? 127 : 126;
  let why = describeErrno(err.errno)?.[1] ?? `errno ${err.errno}`;
  if (err.step.op === 'resolve-exec' && err.errnoName === 'ENOENT' && !command.includes('/')) {
    why = 'executable file not found in $PATH';
  } else if (err.step.op === 'exec' && err.errnoName === 'ENOENT') {
    // resolve-exec found the file itself, so what execve(2) misses is the interpreter its #! line or ELF header names.
    why += ' (the interpreter it names is missing)';
  }
  return new CommandFailure(`exec "${command}": ${why}`, exitStatus);
}
