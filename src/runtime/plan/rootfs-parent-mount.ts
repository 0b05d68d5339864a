// The mount point that holds the rootfs, from /proc/self/mountinfo (proc(5): field 5 is the mount point, octal
// escaped). Needed only when linux.rootfsPropagation shares / with the host: the plan then makes that mount private.
import { readFile, realpath } from 'node:fs/promises';

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The longest mount point that is `rootfs` itself or one of its ancestors (symlinks resolved first). */
export async function rootfsParentMount(rootfs: string, mountinfo?: string): Promise<string> {
  const real = await realpath(rootfs);
  const text = mountinfo ?? await readFile('/proc/self/mountinfo', 'utf8');
  let best = '/';
  for (const line of text.split('\n')) {
    const point = line.split(' ')[4];
    if (point === undefined) continue;
    const p = unescape(point);
    const inside = p === '/' || real === p || real.startsWith(p + '/');
    if (inside && p.length > best.length) best = p;
  }
  return best;
}
