// Errors of a runtime operation start with the operation and the container, as runc's do: `kill c1: ...`.

/** Runs `fn`; an error it throws gets `op id: ` in front of its message, once. */
export async function withErrorPrefix<T>(op: string, id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error && !err.message.startsWith(`${op} ${id}: `)) err.message = `${op} ${id}: ${err.message}`;
    throw err;
  }
}
