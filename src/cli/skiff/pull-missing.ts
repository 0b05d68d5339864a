// The pull of an image `skiff run` or `skiff create` does not have, shown as docker shows it: on stderr, so stdout
// stays the container's (or the ID's), with "Unable to find image" and the pull's progress unless -q.
import { pull } from '../../image/pull.js';
import { transferProgress } from './transfer-progress.js';

export function pullMissing(root: string, input: string, quiet: boolean): (name: string) => Promise<void> {
  return async (name) => {
    if (!quiet) process.stderr.write(`Unable to find image '${name}' locally\n`);
    const progress = transferProgress({ quiet });
    try {
      await pull(root, input, { onProgress: progress.onProgress, log: progress.log, unpack: true });
    } finally {
      progress.stop();
    }
  };
}
