// Signal names and numbers as `kill` accepts them: "KILL", "SIGKILL", "9".
import { constants } from 'node:os';
import { SkiffError } from '../common/errors.js';

const byName = constants.signals as Record<string, number>;

export function parseSignal(input: string | number): number {
  if (typeof input === 'number') return checkNumber(input, String(input));
  const s = input.trim().toUpperCase();
  if (/^\d+$/.test(s)) return checkNumber(Number(s), input);
  const n = byName[s.startsWith('SIG') ? s : `SIG${s}`];
  if (n === undefined) throw new SkiffError(`unknown signal "${input}"`, 'EINVAL');
  return n;
}

function checkNumber(n: number, input: string): number {
  // Real-time signals go up to SIGRTMAX (64 on Linux); 0 only probes.
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new SkiffError(`invalid signal "${input}"`, 'EINVAL');
  return n;
}
