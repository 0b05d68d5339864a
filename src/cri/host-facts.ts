// The few facts about skiffd's own process that container translation depends on, read once.
import { readFileSync } from 'node:fs';
import type { Logger } from './log.js';

const CAP_SYS_RESOURCE = 24n;

export interface OwnProcess {
  oomScoreAdj: number;
  canLowerOomScoreAdj: boolean;
}

let own: OwnProcess | undefined;

export function ownProcess(): OwnProcess {
  if (own) return own;
  const adj = Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  own = { oomScoreAdj: adj, canLowerOomScoreAdj: ((BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) === 1n };
  return own;
}

let clampLogged = false;

/** containerd logs restrict_oom_score_adj's effect once; so do we. */
export function logClampOnce(log: Logger, note: string): void {
  if (clampLogged) return;
  clampLogged = true;
  log.warn({ note }, 'negative oom_score_adj values are clamped (this process lacks CAP_SYS_RESOURCE); logged once');
}
