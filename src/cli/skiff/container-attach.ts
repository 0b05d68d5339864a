// A terminal attached to a container: its output on our stdout and stderr until it exits (docker attach, and
// skiff run in the foreground).
import { SkiffError } from '../../common/errors.js';
import type { Engine } from '../../engine/engine.js';

export interface AttachOptions {
  stdin: boolean;
  tty: boolean;
}

/** Resolves when the container's output has ended (it exited). */
export async function attachTerminal(engine: Engine, id: string, o: AttachOptions): Promise<void> {
  if (o.stdin || o.tty) throw new SkiffError('-i and -t need the monitor\'s attach socket', 'ENOTSUP');
  for await (const e of engine.logs(id, { follow: true })) {
    (e.stream === 'stdout' ? process.stdout : process.stderr).write(e.text);
  }
}
