// skiff cp [-a] [-L] [-q] CONTAINER:SRC DEST|-  and  skiff cp [-a] [-L] [-q] SRC|- CONTAINER:DEST: docker cp.
// "-" is a tar on stdout or stdin. On a terminal the bytes copied are shown on stderr as they go, then docker's
// "Successfully copied 2.05kB to DEST" (-q, or an output that is not a terminal, leaves both out). ^C stops the copy
// and puts the container back as it was (resumed, its rootfs unmounted) before skiff dies of the signal.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import type { CopyResult } from '../../engine/container-cp.js';
import { humanSize } from './docker-units.js';
import { engineOf } from './engine-of.js';
import { interruptible } from './interruptible.js';

/**
 * docker's splitCpArg: CONTAINER:PATH, unless the argument is an absolute path or starts with "." (so a local
 * "./file:name" is a path), or has no ":" at all.
 */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** docker's progress line on a terminal: rewritten at most every 75 ms, erased at the end. */
function progressLine(header: string, out: NodeJS.WriteStream): { update(bytes: number): void; done(): void } {
  if (!out.isTTY) return { update() {}, done() {} };
  let last = 0;
  out.write(`${header}${humanSize(0)}`);
  return {
    update(bytes) {
      if (Date.now() - last < 75) return;
      last = Date.now();
      out.write(`\r\x1b[2K${header}${humanSize(bytes)}`);
    },
    done: () => out.write('\r\x1b[2K'),
  };
}

function summary(r: CopyResult): string {
  const moved = r.contentSize === r.transferred ? '' : ` (transferred ${humanSize(r.transferred)})`;
  return `Successfully copied ${humanSize(r.contentSize)}${moved} to ${r.dest}\n`;
}

export function register(program: Command): void {
  program.command('cp')
    .argument('<source>', 'CONTAINER:SRC_PATH, a local path, or - (a tar on stdin)')
    .argument('<destination>', 'CONTAINER:DEST_PATH, a local path, or - (a tar on stdout)')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'suppress progress output during copy (also when no terminal is attached)')
    .action(async (srcArg: string, dstArg: string, o: { archive?: boolean; followLink?: boolean; quiet?: boolean }, cmd: Command) => {
      if (!srcArg) throw new SkiffError('source can not be empty', 'EINVAL');
      if (!dstArg) throw new SkiffError('destination can not be empty', 'EINVAL');
      const src = splitCpArg(srcArg);
      const dst = splitCpArg(dstArg);
      if (src.container !== undefined && dst.container !== undefined) throw new SkiffError('copying between containers is not supported', 'EINVAL');
      if (src.container === undefined && dst.container === undefined) throw new SkiffError('must specify at least one container source', 'EINVAL');
      const quiet = o.quiet || !process.stdout.isTTY;
      const toStdout = src.container !== undefined && dst.path === '-';
      const progress = quiet || toStdout ? undefined : progressLine(src.container !== undefined ? 'Copying from container - ' : 'Copying to container - ', process.stderr);
      const engine = engineOf(cmd);
      const result = await interruptible(async (signal) => {
        const opts = { archive: o.archive, followLink: o.followLink, onProgress: progress?.update, signal };
        try {
          if (src.container !== undefined) {
            return await engine.copyFrom(src.container, src.path, toStdout ? { stream: process.stdout } : { hostPath: dst.path }, opts);
          }
          return await engine.copyTo(dst.container!, dst.path, src.path === '-' ? { stream: process.stdin } : { hostPath: src.path }, opts);
        } finally {
          progress?.done();
        }
      });
      if (progress) process.stderr.write(summary(result));
    });
}
