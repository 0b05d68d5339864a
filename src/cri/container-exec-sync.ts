// ExecSync: a command run in the container to its end, its output collected (each stream capped at the CRI's
// message limit, as containerd caps it), its exit code returned. With a timeout, a command still running then is
// killed and the call fails with DEADLINE_EXCEEDED (containerd's "timeout exceeded"; the kubelet's probes count it).
import { status } from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import type { CriContext } from './context.js';
import { criContainer } from './containers.js';
import { CriError, invalidArgument } from './grpc-error.js';
import type { ExecSyncRequest__Output } from './proto/generated/runtime/v1/ExecSyncRequest.js';
import type { ExecSyncResponse } from './proto/generated/runtime/v1/ExecSyncResponse.js';

/** Per stream: what fits a 16 MiB response with room for the rest (the kubelet's limit). */
export const EXEC_SYNC_OUTPUT_CAP = 8 * 1024 * 1024;

function collect(stream: Readable | null): Promise<Buffer> {
  if (!stream) return Promise.resolve(Buffer.alloc(0));
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve) => {
    stream.on('data', (c: Buffer) => {
      // Past the cap the output is read and dropped, so the process never blocks on a full pipe.
      if (size >= EXEC_SYNC_OUTPUT_CAP) return;
      const part = c.subarray(0, EXEC_SYNC_OUTPUT_CAP - size);
      chunks.push(part);
      size += part.length;
    });
    stream.once('close', () => resolve(Buffer.concat(chunks)));
    stream.once('error', () => resolve(Buffer.concat(chunks)));
  });
}

export async function containerExecSync(ctx: CriContext, req: ExecSyncRequest__Output): Promise<ExecSyncResponse> {
  if (!req.cmd.length) throw invalidArgument('cmd: no command');
  const v = await criContainer(ctx, req.container_id);
  if (v.status !== 'running') throw invalidArgument(`container ${v.record.id} is not running`);
  const result = await ctx.engine.exec(v.record.id, { command: req.cmd, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = collect(result.pipes.stdout);
  const err = collect(result.pipes.stderr);
  const timeoutSec = Number(req.timeout || '0');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (timeoutSec > 0) timer = setTimeout(() => resolve('timeout'), timeoutSec * 1000);
  });
  const exit = await Promise.race([result.exit!, timedOut]);
  clearTimeout(timer);
  if (exit === 'timeout') {
    try {
      process.kill(result.pid, 'SIGKILL');
    } catch {
      // ended just now
    }
    await result.exit!.catch(() => undefined);
    throw new CriError(status.DEADLINE_EXCEEDED, `command ${JSON.stringify(req.cmd)} timed out after ${timeoutSec}s and was killed`);
  }
  // A process the command left in the background may hold the pipes: what came until shortly after the exit counts.
  const settle = setTimeout(() => { result.pipes.stdout?.destroy(); result.pipes.stderr?.destroy(); }, 1000);
  const [stdout, stderr] = await Promise.all([out, err]);
  clearTimeout(settle);
  return { stdout, stderr, exit_code: exit.signal ? 128 + exit.signal : exit.exitCode };
}
