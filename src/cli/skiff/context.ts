// The global flags every `skiff` command honours, resolved once.
import type { Command } from 'commander';

export interface SkiffContext {
  /** Persistent data: content store, snapshots, metadata, logs (default /var/lib/skiff). */
  root: string;
  /** Runtime state, lost on reboot (default /run/skiff). */
  state: string;
}

export const DEFAULT_ROOT = '/var/lib/skiff';
export const DEFAULT_STATE = '/run/skiff';

export function contextOf(cmd: Command): SkiffContext {
  const opts = cmd.optsWithGlobals() as { root?: string; state?: string };
  return { root: opts.root ?? DEFAULT_ROOT, state: opts.state ?? DEFAULT_STATE };
}
