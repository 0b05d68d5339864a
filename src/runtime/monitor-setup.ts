// What a monitored container's monitor is given (docs/monitor.md): the caller's MonitorOptions, checked, and the
// host facts the runtime adds (the native helper's binary, the cgroup's OOM counter file), as the `monitor` step.
import { lstatSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ValidationError, type Problem } from '../common/errors.js';
import type { UndoStack } from '../common/undo.js';
import type { CgroupManager } from '../cgroups/index.js';
import { nativeHelperPath } from '../native/binary-path.js';
import type { MonitorPlan } from './plan/index.js';

export interface MonitorOptions {
  /** The container's output as a CRI-format log ('' = none: output reaches attach clients only). */
  logPath: string;
  /** Rotate the log before it would grow past this many bytes (docker's max-size; 0 or absent = never). */
  logMaxSize?: number;
  /**
   * Rotated files kept beside the log: logPath.1 (the newest) .. logPath.N. Docker's max-file counts the live file
   * too, so max-file=3 is logMaxFiles 2. Default 1; 0 starts the log afresh at the limit.
   */
  logMaxFiles?: number;
  /** Written atomically when the container exits (readExitFile in monitor-client.ts reads it). */
  exitFile: string;
  /** The attach socket (mode 0600), served while the container runs; absent = no attach. */
  attachSocket?: string;
  /** Keep the container's stdin open for attach clients (docker run -i); without it stdin is /dev/null. */
  stdin?: boolean;
  /**
   * Run when the container has exited, after the exit file is written (docker's --rm, restart policies, teardown).
   * argv[0] is an absolute path; stdio is /dev/null, and it runs in a session of its own, after the monitor is gone.
   */
  exitCommand?: string[];
  /**
   * A file that a process which waits for the exit and takes down the run itself writes `PID STARTTIME` in (field 22
   * of /proc/PID/stat): while that process lives the monitor does not run the exit command, which would only race it.
   */
  exitOwnerFile?: string;
  /** The exit command's environment (default: PATH only). */
  exitCommandEnv?: string[];
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function validateMonitorOptions(m: MonitorOptions): void {
  const problems: Problem[] = [];
  const absolute = (field: string, v: string | undefined, optional: boolean) => {
    if (v === undefined || (optional && v === '')) return;
    if (!isAbsolute(v) || v.includes('\0')) problems.push({ path: `monitor.${field}`, message: `"${v}" is not an absolute path` });
  };
  absolute('logPath', m.logPath, true);
  absolute('exitFile', m.exitFile, false);
  absolute('attachSocket', m.attachSocket, true);
  absolute('exitOwnerFile', m.exitOwnerFile, true);
  absolute('exitCommand[0]', m.exitCommand?.[0], false);
  for (const [field, v] of [['logMaxSize', m.logMaxSize], ['logMaxFiles', m.logMaxFiles]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) problems.push({ path: `monitor.${field}`, message: `${v} is not a whole number >= 0` });
  }
  if (m.exitCommand && m.exitCommand.length === 0) problems.push({ path: 'monitor.exitCommand', message: 'is empty' });
  if (problems.length) throw new ValidationError('monitor options', problems);
}

/**
 * For options validateMonitorOptions accepted: clears what a previous run at the same paths left (an exit file, a
 * socket of a killed monitor), and registers the undo of what the monitor step will make (the socket, a new log).
 * Returns the `monitor` step's arguments.
 */
export async function prepareMonitor(m: MonitorOptions, cgroup: CgroupManager, undo: UndoStack): Promise<MonitorPlan> {
  // An old exit file would read as this container's exit.
  await rm(m.exitFile, { force: true });
  if (m.attachSocket) {
    const st = lstatSync(m.attachSocket, { throwIfNoEntry: false });
    if (st && !st.isSocket()) {
      throw new ValidationError('monitor options', [{ path: 'monitor.attachSocket', message: `${m.attachSocket} exists and is not a socket` }]);
    }
    if (st) await rm(m.attachSocket);
    const socket = m.attachSocket;
    undo.push(`attach socket ${socket}`, () => rm(socket, { force: true }));
  }
  if (m.logPath && !lstatSync(m.logPath, { throwIfNoEntry: false })) {
    const log = m.logPath;
    undo.push(`log ${log}`, () => rm(log, { force: true }));
  }
  const oomFile = cgroup.oomKillFile();
  return {
    exe: resolve(nativeHelperPath()),
    logPath: m.logPath,
    logMaxSize: m.logMaxSize ?? 0,
    logMaxFiles: m.logMaxFiles ?? 1,
    exitFile: m.exitFile,
    attachSocket: m.attachSocket ?? '',
    stdin: Boolean(m.stdin),
    oomFile: oomFile && lstatSync(oomFile, { throwIfNoEntry: false }) ? oomFile : '',
    exitOwner: m.exitOwnerFile ?? '',
    exitCommand: m.exitCommand ?? [],
    exitCommandEnv: m.exitCommandEnv ?? [DEFAULT_PATH],
  };
}
