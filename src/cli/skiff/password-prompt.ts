// A password typed at a terminal, never shown. readline cannot do this: it draws the input itself, so turning the
// terminal's echo off (stty -echo) still leaves readline's own echo on the screen. Instead the terminal is put in
// raw mode (no echo, no line editing, Ctrl-C arrives as a byte rather than SIGINT) and the line is read here, as
// golang.org/x/term's ReadPassword does for docker: Enter ends it, Backspace and Ctrl-U edit it, Ctrl-C abandons it,
// Ctrl-D on an empty line is the end of input. The terminal is restored on every way out, also when a signal
// (SIGTERM, SIGHUP: Node resets the terminal itself only for some) ends the process at the prompt.
import { StringDecoder } from 'node:string_decoder';
import { SkiffError } from '../../common/errors.js';

/** Ctrl-C at the prompt: the command stops with the shell's status for SIGINT. */
export class Interrupted extends SkiffError {
  constructor(what: string) {
    super(`${what}: interrupted`, 'EINTR');
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

export async function readPassword(question: string, what: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let chars: string[] = [];
  let onData: ((b: Buffer) => void) | undefined;
  let onEnd: (() => void) | undefined;
  // The terminal back as it was, then the signal again with its default action: the process ends as it would have.
  const onSignal = (signal: NodeJS.Signals) => {
    input.setRawMode(false);
    for (const s of SIGNALS) process.off(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  // Raw before the prompt shows: what is typed after seeing it must never meet the terminal's own echo.
  input.setRawMode(true);
  output.write(question);
  try {
    return await new Promise<string>((resolve, reject) => {
      onData = (buf: Buffer) => {
        for (const ch of decoder.write(buf)) {
          if (ch === '\r' || ch === '\n') return resolve(chars.join(''));
          if (ch === '\x03') return reject(new Interrupted(what));
          if (ch === '\x04' && chars.length === 0) return reject(new SkiffError(`${what}: no password given (end of input)`, 'EINVAL'));
          if (ch === '\x7f' || ch === '\b') chars.pop();
          else if (ch === '\x15') chars = [];
          else if (ch >= ' ') chars.push(ch);
        }
      };
      onEnd = () => reject(new SkiffError(`${what}: no password given (end of input)`, 'EINVAL'));
      input.on('data', onData).once('end', onEnd).resume();
    });
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
    input.off('data', onData!).off('end', onEnd!);
    input.setRawMode(false);
    input.pause();
    output.write('\n');
  }
}
