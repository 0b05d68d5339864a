// docker logs over the monitor's CRI-format log (`<RFC3339Nano> stdout|stderr F|P <content>`, kubelet's
// format): the rotated files oldest first, then the live one; --tail, --since/--until, and --follow, which reads
// on as the file grows (and across a rotation) until the container stops running.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as the monitor wrote it. */
  time: string;
  /** The line's bytes, with its newline when the line was whole. */
  text: string;
}

export interface LogOptions {
  /** Keep reading while `running()` says the container runs. */
  follow?: boolean;
  running?: () => Promise<boolean>;
  /** Only the last N lines (before following). */
  tail?: number;
  /** Only entries at or after / before these times. */
  since?: Date;
  until?: Date;
  /** How many rotated files the monitor keeps (log.1 .. log.N). */
  maxFiles?: number;
  signal?: AbortSignal;
}

const LINE = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s;

/** Parses CRI log lines, joining partial (P) pieces to the line they end with (F). */
class LineParser {
  private partial = new Map<string, string>();

  *feed(lines: string[]): Iterable<LogEntry> {
    for (const line of lines) {
      const m = LINE.exec(line);
      if (!m) continue;
      const stream = m[2] as LogEntry['stream'];
      const text = (this.partial.get(stream) ?? '') + m[4];
      if (m[3] === 'P') {
        this.partial.set(stream, text);
        continue;
      }
      this.partial.delete(stream);
      yield { stream, time: m[1], text: `${text}\n` };
    }
  }
}

function readAll(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function inWindow(e: LogEntry, o: LogOptions): boolean {
  if (!o.since && !o.until) return true;
  const t = Date.parse(e.time);
  return (!o.since || t >= o.since.getTime()) && (!o.until || t < o.until.getTime());
}

export async function* readLogs(path: string, o: LogOptions = {}): AsyncGenerator<LogEntry> {
  const parser = new LineParser();
  const rotated: string[] = [];
  for (let i = o.maxFiles ?? 5; i >= 1; i--) if (existsSync(`${path}.${i}`)) rotated.push(`${path}.${i}`);
  let history: LogEntry[] = [];
  for (const file of rotated) history.push(...parser.feed(readAll(file).split('\n')));
  // The live file is read through an fd that follow keeps; a rotation (rename) is seen as a new inode.
  let fd = existsSync(path) ? openSync(path, 'r') : -1;
  let pos = 0;
  let carry = '';
  const readNew = (): string[] => {
    if (fd < 0) return [];
    const size = fstatSync(fd).size;
    if (size <= pos) return [];
    const buf = Buffer.alloc(size - pos);
    const n = readSync(fd, buf, 0, buf.length, pos);
    pos += n;
    const text = carry + buf.subarray(0, n).toString('utf8');
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    return lines;
  };
  try {
    history.push(...parser.feed(readNew()));
    history = history.filter((e) => inWindow(e, o));
    if (o.tail !== undefined && o.tail >= 0) history = o.tail === 0 ? [] : history.slice(-o.tail);
    yield* history;
    if (!o.follow) return;
    let idle = 0;
    for (;;) {
      if (o.signal?.aborted) return;
      const lines = readNew();
      if (lines.length) {
        idle = 0;
        for (const e of parser.feed(lines)) if (inWindow(e, o)) yield e;
        continue;
      }
      // Rotated: the name now points at a new file; finish the old one (done above), then read the new one.
      if (existsSync(path) && (fd < 0 || statSync(path).ino !== fstatSync(fd).ino)) {
        if (fd >= 0) closeSync(fd);
        fd = openSync(path, 'r');
        pos = 0;
        carry = '';
        continue;
      }
      if (idle++ % 5 === 0 && o.running && !(await o.running())) {
        for (const e of parser.feed(readNew())) if (inWindow(e, o)) yield e;
        return;
      }
      await sleep(50);
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
