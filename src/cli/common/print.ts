// Output of the short commands, written straight to fds 1 and 2. The first use of process.stdout or process.stderr
// loads Node's stream machinery: 6-7 ms of a `skiff-runtime state` that otherwise costs about 15 ms above Node's own
// start (issue 15). Commands that stream (logs -f, cp to stdout, attach) keep using the streams.
import { fstatSync, writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A pipe its reader made non-blocking is full: wait a moment. A reader that has gone (EPIPE: Node ignores
      // SIGPIPE) gets nothing more, as with `skiff-runtime list | head -1`.
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else if (code === 'EPIPE') return;
      else throw err;
    }
  }
}

export function printOut(text: string): void {
  writeAll(1, text);
}

export function printErr(text: string): void {
  writeAll(2, text);
}

/**
 * Whether `fd` may be a terminal, decided without process.stdout or process.stderr: a pipe, a file or one of the
 * memory devices (major 1: /dev/null, /dev/zero; the kernel's Documentation/admin-guide/devices.txt) is not, and
 * those are what scripts and engines give a command. Any other character device is asked through Node's own check.
 */
export function isTerminal(fd: 1 | 2): boolean {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return false;
  }
  if (!st.isCharacterDevice() || ((st.rdev >> 8) & 0xfff) === 1) return false;
  return (fd === 1 ? process.stdout : process.stderr).isTTY === true;
}
