// Lays out a minimal root filesystem from Debian's busybox-static: the base of the built-in default image
// (localhost/busybox:latest) and of the test bundles. Applets are hard links to /bin/busybox, not symlinks, so
// masking or bind-mounting one path affects only that path.
import { execFileSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, writeFileSync, chmodSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';

export const BUSYBOX_PATH = '/bin/busybox';

/** The applets this busybox provides, with their install directories ("bin/sh", "usr/bin/env", ...). */
export function busyboxApplets(busybox = BUSYBOX_PATH): string[] {
  if (!existsSync(busybox)) {
    throw new SkiffError(`${busybox} not found: install Debian's busybox-static (scripts/setup.sh does)`);
  }
  const out = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter((l) => l && l !== 'bin/busybox');
}

/** Writes the rootfs into `dir` (which must be empty or absent). */
export function makeBusyboxRootfs(dir: string, busybox = BUSYBOX_PATH): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'var/tmp', 'run']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  chmodSync(join(dir, 'var/tmp'), 0o1777);
  chmodSync(join(dir, 'root'), 0o700);
  const bb = join(dir, 'bin/busybox');
  copyFileSync(busybox, bb);
  chmodSync(bb, 0o755);
  for (const applet of busyboxApplets(busybox)) {
    const target = join(dir, applet);
    if (!existsSync(target)) linkSync(bb, target);
  }
  writeFileSync(join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\n' +
    'daemon:x:1:1:daemon:/usr/sbin:/bin/false\n' +
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nusers:x:100:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  writeFileSync(join(dir, 'etc/resolv.conf'), '');
  writeFileSync(join(dir, 'etc/hostname'), 'busybox\n');
  // Relative, so the layer holds no absolute symlink (the unpacker refuses those until it resolves them in-root).
  if (!existsSync(join(dir, 'etc/mtab'))) symlinkSync('../proc/mounts', join(dir, 'etc/mtab'));
}
