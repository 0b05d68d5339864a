// skiff-runtime's global options and its --log, apart from context.ts so that main.ts (which writes a failing
// command's error to --log) does not load the runtime before a command needs it.
import { appendFileSync } from 'node:fs';
import { printErr } from '../common/print.js';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
  systemdCgroup?: boolean;
}

/** Writes a line to --log the way runc does (containerd and conmon read the last error from it). */
export function logLine(o: GlobalOptions, level: 'debug' | 'info' | 'warning' | 'error', msg: string): void {
  if (!o.log) {
    if (level === 'warning') printErr(`warning: ${msg}\n`);
    return;
  }
  if (level === 'debug' && !o.debug) return;
  const time = new Date().toISOString();
  const line = o.logFormat === 'json'
    ? JSON.stringify({ level, msg, time }) + '\n'
    : `time="${time}" level=${level} msg="${msg.replace(/"/g, '\\"')}"\n`;
  appendFileSync(o.log, line);
}
