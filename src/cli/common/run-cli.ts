// Shared by the three front doors: print an error as one line, exit non-zero.
import { CommanderError, type Command } from 'commander';
import { isTerminal, printErr, printOut } from './print.js';

export function errorLine(prog: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `${prog}: ${msg.split('\n')[0]}`;
}

/** "skiff image mount": the command as a user types it. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Usage errors (an unknown option, a missing argument) as one line like every other error, with where to read the
 * usage instead of the whole help; `onError` hears them too.
 */
function oneLineUsageErrors(cmd: Command, prog: string, onError?: (message: string) => void): void {
  cmd.showHelpAfterError(false);
  cmd.configureOutput({
    writeOut: printOut,
    writeErr: printErr,
    // Commander's defaults read process.stdout's width and colours for every help, which loads Node's streams
    // (4 of the 36 ms `skiff --help` spends above Node's start). Off a terminal: 80 columns (commander's own
    // default) and no colour; skiff's help has no colours of its own, so this only decides whether commander
    // strips escape codes.
    getOutHelpWidth: () => (isTerminal(1) ? process.stdout.columns : 80),
    getErrHelpWidth: () => (isTerminal(2) ? process.stderr.columns : 80),
    getOutHasColors: () => isTerminal(1) && process.stdout.hasColors(),
    getErrHasColors: () => isTerminal(2) && process.stderr.hasColors(),
    outputError: (str, write) => {
      const message = str.replace(/^error: /, '').trim();
      write(`${prog}: ${message} (see '${commandPath(cmd)} --help')\n`);
      onError?.(message);
    },
  });
  for (const sub of cmd.commands) oneLineUsageErrors(sub, prog, onError);
}

/**
 * Parses argv and runs the command; any error becomes `prog: message` on stderr and exit status 1 (usage errors
 * commander's status, 1 too). `onError` also receives the message (skiff-runtime writes it to its --log, where
 * engines look for it).
 */
export async function runCli(program: Command, argv = process.argv, onError?: (message: string) => void): Promise<void> {
  program.exitOverride();
  oneLineUsageErrors(program, program.name(), onError);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Printed already (usage errors above; --help and --version, which exit 0).
      process.exitCode = err.exitCode;
      return;
    }
    const line = errorLine(program.name(), err);
    printErr(line + '\n');
    try {
      onError?.(line.slice(program.name().length + 2));
    } catch {
      // The log file is best effort; the error is already on stderr.
    }
    if (process.env.SKIFF_DEBUG && err instanceof Error && err.stack) printErr(err.stack + '\n');
    process.exitCode = process.exitCode || 1;
  }
}
