// /proc/self/mountinfo, the part the plan's inputs need (proc(5)): field 5 is the mount point (space, tab,
// newline and backslash octal-escaped), field 6 the per-mount options (rw/ro, nosuid, nodev, noexec, atime).
import { MS } from '../../oci/mount-options.js';

export interface MountEntry {
  mountPoint: string;
  /** The per-mount flags as MS_* bits. */
  flags: number;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

const PER_MOUNT_FLAGS: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, nosymfollow: MS.NOSYMFOLLOW,
};

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 6) continue;
    const flags = f[5].split(',').reduce((m, o) => m | (PER_MOUNT_FLAGS[o] ?? 0), 0);
    entries.push({ mountPoint: unescape(f[4]), flags });
  }
  return entries;
}

/** The mount that `path` (absolute, symlinks resolved) lies on: the last-mounted of the deepest mount points. */
export function mountContaining(path: string, entries: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    const inside = e.mountPoint === '/' || path === e.mountPoint || path.startsWith(e.mountPoint + '/');
    if (inside && (!best || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best;
}
