// The cause of a failed system call as strerror(3) says it ("permission denied"), for errors that name the user's
// path instead of Node's "EACCES: permission denied, open '/sys/x.tar.tmp'".
import { getSystemErrorMap } from 'node:util';

/** The cause of a system error, or undefined for any other error. */
export function systemCause(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno !== 'number' || typeof e.syscall !== 'string') return undefined;
  return getSystemErrorMap().get(e.errno)?.[1] ?? e.code ?? e.message;
}
