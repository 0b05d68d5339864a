// docker top: the container's processes (every pid of its cgroup, from the runtime) as the host's ps(1) shows them
// with the options given (docker's default: -ef). As moby's ContainerTop: ps is asked for just those pids (-q), or,
// for options that cannot take -q (a forest listing), for everything, and the lines are then kept by their PID
// column (thread lines, PID "-", go with the process above them).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SkiffError } from '../common/errors.js';
import type { EngineContext } from './context.js';
import { current } from './container-stop.js';
import { viewOf } from './container-view.js';

export interface TopResult {
  titles: string[];
  /** One row per process, a cell per title: everything after the last title's start is its one cell (CMD). */
  processes: string[][];
}

/** ps -o user=PID would make another column look like the one we filter by (moby validatePSArgs). */
function checkPsArgs(args: string[]): void {
  for (const m of ` ${args.join(' ')}`.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw new SkiffError(`specifying "${m[1]}=${m[2]}" is not allowed`, 'EINVAL');
  }
}

/** Go's strings.Fields for ASCII: runs of space, tab, newline, CR, VT, FF. */
const fields = (line: string) => line.split(/[ \t\n\r\v\f]+/).filter(Boolean);

export function parsePsOutput(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidAt = titles.indexOf('PID');
  if (pidAt < 0) throw new SkiffError("Couldn't find PID field in ps output", 'EINVAL');
  const processes: string[][] = [];
  let inContainer = false;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const cells = fields(line);
    const row = [...cells.slice(0, titles.length - 1), cells.slice(titles.length - 1).join(' ')];
    if (cells[pidAt] === '-') {
      if (inContainer) processes.push(row);
      continue;
    }
    const pid = Number(cells[pidAt]);
    if (!Number.isInteger(pid)) throw new SkiffError(`Unexpected pid '${cells[pidAt]}' in ps output`, 'EINVAL');
    inContainer = pids.has(pid);
    if (inContainer) processes.push(row);
  }
  return { titles, processes };
}

async function ps(args: string[]): Promise<string> {
  try {
    return (await promisify(execFile)('ps', args, { maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    const e = err as { code?: string | number; stderr?: string };
    if (e.code === 'ENOENT') throw new SkiffError('ps: not found on this host (Debian: procps)', 'ENOENT');
    // As docker: the first line ps wrote on stderr, or its exit status.
    throw new SkiffError(`ps: ${e.stderr?.split('\n')[0] || `exit status ${e.code}`}`, 'EINVAL');
  }
}

export async function topContainer(ctx: EngineContext, id: string, psArgs: string[]): Promise<TopResult> {
  checkPsArgs(psArgs);
  const args = psArgs.length ? psArgs : ['-ef'];
  const view = await viewOf(ctx, await current(ctx, id));
  if (view.status === 'restarting') throw new SkiffError(`Container ${view.record.name} is restarting, wait until the container is running`, 'EINVAL');
  if (view.status !== 'running' && view.status !== 'paused') throw new SkiffError(`container ${view.record.name} is not running`, 'EINVAL');
  const pids = await ctx.runtimeOf(view.record).pids(view.record.id);
  let output: string;
  try {
    output = await ps([...args, `-q${pids.join(',')}`]);
  } catch {
    // Some options (f, a forest) cannot be used with -q: ask for everything and filter.
    output = await ps(args);
  }
  return parsePsOutput(output, new Set(pids));
}
