// A command that writes files (load, save) and is interrupted (^C, a kill, a closed terminal): the library is
// told through an AbortSignal and removes what it was writing; then the process dies of the same signal, as a
// shell expects of an interrupted program (status 128+n, and a script running it stops as well).
import { SkiffError } from '../../common/errors.js';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    received ??= s;
    controller.abort(new SkiffError(`interrupted by ${s}`, 'EINTR'));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn(controller.signal);
  } catch (err) {
    for (const s of SIGNALS) process.off(s, onSignal);
    // With no listener left, Node restores the default action, and kill(2) of oneself delivers it before it
    // returns: the process ends here. A command that finished despite the signal is not undone.
    if (received) process.kill(process.pid, received);
    throw err;
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}
