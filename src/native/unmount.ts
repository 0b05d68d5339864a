// Taking down every mount stacked on a path through the native helper (Node has no umount2(2)).
import { SkiffError } from '../common/errors.js';
import { MNT_DETACH } from '../common/linux-flags.js';
import { foreignMountAt } from '../common/mountinfo.js';
import { launch } from './launcher.js';
import { step } from './step.js';

/** More mounts stacked on one of our paths than any retry of ours could have made. */
const MAX_STACKED = 8;

export interface UnmountTarget {
  path: string;
  /** What the unmount is, for an error: "unpin", "unmount". */
  what: string;
}

/**
 * Detaches the mounts on each path, top first, until it shows its parent's filesystem again: one launch per pass
 * over the paths still mounted, so almost always one for all of them (a pin mounted twice, a retried pin, takes
 * two). Only for mounts of another filesystem than the parent directory's (a tmpfs, an nsfs pin: foreignMountAt),
 * told by a stat instead of a mountinfo parse. Idempotent.
 */
export async function unmountEach(targets: UnmountTarget[]): Promise<void> {
  for (let i = 0; ; i++) {
    const mounted = targets.filter((t) => foreignMountAt(t.path));
    if (!mounted.length) return;
    if (i === MAX_STACKED) throw new SkiffError(`${mounted[0].path}: still mounted after ${MAX_STACKED} unmounts`, 'EBUSY');
    const plan = mounted.map((t) => step('umount', [t.path, MNT_DETACH], undefined, `${t.what} ${t.path}`));
    await launch({ plan: [...plan, step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

export function unmountStacked(path: string, what: string): Promise<void> {
  return unmountEach([{ path, what }]);
}
