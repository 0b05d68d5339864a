// Shared by the three front doors: print an error as one line, exit non-zero.
import { CommanderError, type Command } from 'commander';

export function errorLine(prog: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `${prog}: ${msg.split('\n')[0]}`;
}

/**
 * Parses argv and runs the command; any error becomes `prog: message` on stderr and exit status 1.
 * `onError` also receives the message (skiff-runtime writes it to its --log, where engines look for it).
 */
export async function runCli(program: Command, argv = process.argv, onError?: (message: string) => void): Promise<void> {
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed usage errors; --help and --version exit 0.
      process.exitCode = err.exitCode;
      return;
    }
    const line = errorLine(program.name(), err);
    process.stderr.write(line + '\n');
    try {
      onError?.(line.slice(program.name().length + 2));
    } catch {
      // The log file is best effort; the error is already on stderr.
    }
    if (process.env.SKIFF_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = process.exitCode || 1;
  }
}
