// A minimal root filesystem from Debian's busybox-static: the base of the built-in default image
// (localhost/busybox:latest) and of the test bundles. Applets are hard links to /bin/busybox, not symlinks, so
// masking or bind-mounting one path affects only that path. Owner root and the modes of a Debian base system
// (base-files): /tmp and /var/tmp 1777, so any user can make files there; /root 0700; the rest 0755 and 0644.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { writeEntries, type RootfsEntry } from './rootfs-entries.js';

export const BUSYBOX_PATH = '/bin/busybox';

const SPECIAL_DIR_MODES: Record<string, number> = { tmp: 0o1777, 'var/tmp': 0o1777, root: 0o700 };
const BASE_DIRS = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'var/tmp', 'run'];

const ETC_FILES: Record<string, string> = {
  'etc/group': 'root:x:0:\ndaemon:x:1:\nusers:x:100:\nnogroup:x:65534:\n',
  'etc/hostname': 'busybox\n',
  'etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost\n',
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' +
    'daemon:x:1:1:daemon:/usr/sbin:/bin/false\n' +
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  'etc/resolv.conf': '',
};

/** The applets this busybox provides, with their install directories ("bin/sh", "usr/bin/env", ...). */
export function busyboxApplets(busybox = BUSYBOX_PATH): string[] {
  if (!existsSync(busybox)) {
    throw new SkiffError(`${busybox} not found: install Debian's busybox-static (scripts/setup.sh does)`);
  }
  const out = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter((l) => l && l !== 'bin/busybox');
}

/** Every parent of `path` ("usr/bin/env" -> "usr/bin", "usr"). */
function parents(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== '.'; d = dirname(d)) out.push(d);
  return out;
}

/**
 * The rootfs as entries in a fixed order, whatever the order the applets are listed in: directories sorted (so
 * each comes after its parent), then the busybox binary, its applets sorted, /etc, and the /etc/mtab symlink.
 */
export function busyboxRootfs(busybox = BUSYBOX_PATH): RootfsEntry[] {
  const applets = [...new Set(busyboxApplets(busybox))].sort();
  const dirs = new Set([...BASE_DIRS, ...BASE_DIRS.flatMap(parents), ...applets.flatMap(parents)]);
  const dirEntries: RootfsEntry[] = [...dirs].sort().map((path) => ({ type: 'dir', path, mode: SPECIAL_DIR_MODES[path] ?? 0o755 }));
  return [
    { type: 'dir', path: '.', mode: 0o755 },
    ...dirEntries,
    { type: 'file', path: 'bin/busybox', mode: 0o755, content: readFileSync(busybox) },
    ...applets.map((path): RootfsEntry => ({ type: 'hardlink', path, mode: 0o755, target: 'bin/busybox' })),
    ...Object.entries(ETC_FILES).map(([path, text]): RootfsEntry => ({ type: 'file', path, mode: 0o644, content: Buffer.from(text) })),
    // Relative, so the layer holds no absolute symlink (the unpacker refuses those until it resolves them in-root).
    { type: 'symlink', path: 'etc/mtab', target: '../proc/mounts' },
  ];
}

/** Writes the rootfs into `dir` (which must be empty or absent). */
export function makeBusyboxRootfs(dir: string, busybox = BUSYBOX_PATH): void {
  writeEntries(dir, busyboxRootfs(busybox));
}
