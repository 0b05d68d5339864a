// Progress of a pull's blobs on stderr: one bar per blob with bytes and speed on a terminal (cli-progress), one
// line per blob event otherwise (a log or CI reads it), nothing with --quiet.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { BlobProgress } from '../../image/pull.js';

export interface TransferProgress {
  onProgress?: (p: BlobProgress) => void;
  log?: (line: string) => void;
  stop(): void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

const short = (digest: string) => digest.slice(7, 19);

export function transferProgress(mode: { quiet?: boolean; stream?: NodeJS.WriteStream }): TransferProgress {
  const stream = mode.stream ?? process.stderr;
  if (mode.quiet) return { stop() {} };
  if (!stream.isTTY) return plainLines(stream);
  const multi = new MultiBar({
    stream, format: '{id} {kind} [{bar}] {done}/{size} {speed} {status}', hideCursor: true, clearOnComplete: false, fps: 8, barsize: 30,
  }, Presets.shades_classic);
  const bars = new Map<string, { bar: SingleBar; started: number; base: number }>();
  return {
    onProgress(p) {
      let entry = bars.get(p.digest);
      if (!entry) {
        entry = { bar: multi.create(Math.max(p.total, 1), 0, {}), started: Date.now(), base: p.resumedFrom ?? 0 };
        bars.set(p.digest, entry);
      }
      if (p.resumedFrom) entry.base = p.resumedFrom;
      const seconds = (Date.now() - entry.started) / 1000;
      const speed = p.status === 'downloading' && seconds > 0.2 ? `${formatBytes((p.done - entry.base) / seconds)}/s` : '';
      const status = p.status === 'exists' ? 'already exists' : p.status === 'done' ? 'done' : p.resumedFrom ? `resumed at ${formatBytes(p.resumedFrom)}` : '';
      entry.bar.update(p.status === 'exists' ? Math.max(p.total, 1) : p.done, {
        id: short(p.digest), kind: p.kind.padEnd(6), done: formatBytes(p.done).padStart(9), size: formatBytes(p.total).padEnd(9), speed: speed.padEnd(11), status,
      });
    },
    log: (line) => multi.log(line + '\n'),
    stop: () => multi.stop(),
  };
}

function plainLines(stream: NodeJS.WritableStream): TransferProgress {
  const started = new Map<string, number>();
  const write = (line: string) => stream.write(line + '\n');
  return {
    onProgress(p) {
      const id = `${short(p.digest)} ${p.kind}`;
      if (p.status === 'exists') write(`${id}: already exists`);
      else if (p.status === 'downloading' && !started.has(p.digest)) {
        started.set(p.digest, Date.now());
        write(`${id}: downloading ${formatBytes(p.total)}${p.resumedFrom ? `, resuming at byte ${p.resumedFrom}` : ''}`);
      } else if (p.status === 'done') {
        const seconds = (Date.now() - (started.get(p.digest) ?? Date.now())) / 1000;
        write(`${id}: done (${formatBytes(p.total)} in ${seconds.toFixed(1)}s)`);
      }
    },
    log: write,
    stop() {},
  };
}
