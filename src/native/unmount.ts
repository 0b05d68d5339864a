// Taking down every mount stacked on a path through the native helper (Node has no umount2(2)).
import { SkiffError } from '../common/errors.js';
import { MNT_DETACH } from '../common/linux-flags.js';
import { foreignMountAt } from '../common/mountinfo.js';
import { launch } from './launcher.js';
import { step } from './step.js';

/** More mounts stacked on one of our paths than any retry of ours could have made. */
const MAX_STACKED = 8;

/**
 * Detaches the mounts on `path`, top first, until it shows its parent's filesystem again. For mounts of another
 * filesystem than the parent directory's (a tmpfs, an nsfs pin: foreignMountAt), told by a stat instead of a
 * mountinfo parse. Almost always one pass; a pin mounted twice (a retried pin) takes two. Idempotent.
 */
export async function unmountStacked(path: string, what: string): Promise<void> {
  for (let i = 0; foreignMountAt(path); i++) {
    if (i === MAX_STACKED) throw new SkiffError(`${path}: still mounted after ${MAX_STACKED} unmounts`, 'EBUSY');
    await launch({ plan: [step('umount', [path, MNT_DETACH], undefined, `${what} ${path}`), step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
