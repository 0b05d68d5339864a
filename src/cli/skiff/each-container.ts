// docker's commands that take several containers (start, stop, kill, rm, restart, wait, ...): each one on its own,
// the name printed as given when it worked, one error line for each that did not, exit status 1 if any failed.
import { errorLine } from '../common/run-cli.js';
import { printErr, printOut } from '../common/print.js';

export async function eachContainer(refs: string[], fn: (ref: string) => Promise<string | undefined>): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      const out = await fn(ref);
      if (out !== undefined) printOut(`${out}\n`);
    } catch (err) {
      failed = true;
      printErr(`${errorLine('skiff', err)}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}
