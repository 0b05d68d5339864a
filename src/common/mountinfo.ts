// /proc/PID/mountinfo (proc(5)), the one parser of it. Per line: mount ID, parent ID, major:minor, the root of the
// mount within its filesystem, the mount point, per-mount options, optional fields (shared:N, master:N,
// propagate_from:N, unbindable) up to a "-", then the filesystem type, the source and the superblock options.
// Paths have space, tab, newline and backslash octal-escaped.
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MS } from './linux-flags.js';

export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** "/" for a whole filesystem; a subdirectory for a bind mount of it. */
  root: string;
  mountPoint: string;
  /** The per-mount flags (ro, nosuid, nodev, noexec, atime) as MS_* bits. */
  flags: number;
  /** The optional fields: "shared:12", "master:3", "unbindable", ... */
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

const PER_MOUNT_FLAGS: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, nosymfollow: MS.NOSYMFOLLOW,
};

export function readMountinfo(pid: number | 'self' = 'self'): string {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
}

export function parseMountinfo(text: string = readMountinfo()): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 7 || dash < 0) continue;
    entries.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      root: unescape(f[3]),
      mountPoint: unescape(f[4]),
      flags: f[5].split(',').reduce((m, o) => m | (PER_MOUNT_FLAGS[o] ?? 0), 0),
      optional: f.slice(6, dash),
      fstype: f[dash + 1] ?? '',
      source: unescape(f[dash + 2] ?? ''),
      superOptions: (f[dash + 3] ?? '').split(','),
    });
  }
  return entries;
}

/**
 * Whether `path` shows a filesystem other than its parent directory's (their st_dev differ, as mountpoint(1) tells):
 * true for a tmpfs, an overlay or an nsfs pin mounted there; false for a bind mount within the parent's own
 * filesystem, which only mountinfo shows. Two stats take microseconds, where mountinfo grows with every mount: with
 * a hundred pods (a /dev/shm and pins each) one parse took milliseconds.
 */
export function foreignMountAt(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/** Mounts stacked on `path`, lowest first (the last one is what the path shows). */
export function mountsAt(path: string, entries: MountInfoEntry[] = parseMountinfo()): MountInfoEntry[] {
  return entries.filter((e) => e.mountPoint === path);
}

export function isShared(e: MountInfoEntry): boolean {
  return e.optional.some((o) => o.startsWith('shared:'));
}

/** The mount that `path` (absolute, symlinks resolved) lies on: the last-mounted of the deepest mount points. */
export function mountContaining(path: string, entries: MountInfoEntry[]): MountInfoEntry | undefined {
  let best: MountInfoEntry | undefined;
  for (const e of entries) {
    const inside = e.mountPoint === '/' || path === e.mountPoint || path.startsWith(e.mountPoint + '/');
    if (inside && (!best || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best;
}
