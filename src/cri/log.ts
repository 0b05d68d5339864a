// skiffd's log: one JSON object per line on stdout (pino), for journald or any collector to keep. Written
// synchronously: a daemon's log is small, and lines written just before an exit must not be lost.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

export function createLogger(level: LogLevel, destination = 1): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: destination, sync: true }));
}
