// docker's prompt before a prune: the warning and " [y/N] " on stdout, one line read from stdin; only "y" or "Y"
// goes ahead (the end of input, as from </dev/null, is a no).
import { createInterface } from 'node:readline';

export async function confirm(warning: string, input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  output.write(`${warning} [y/N] `);
  const lines = createInterface({ input, terminal: false });
  try {
    for await (const line of lines) return /^y$/i.test(line.trim());
    return false;
  } finally {
    lines.close();
    // What was typed at a terminal ended the line; an answer from a pipe or a file did not.
    if (!(input as NodeJS.ReadStream).isTTY) output.write('\n');
  }
}
