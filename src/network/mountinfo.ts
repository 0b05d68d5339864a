// The mounts at one path, from /proc/self/mountinfo (proc(5)): field 4 is the root of the mount within its
// filesystem, field 5 the mount point (space, tab, newline and backslash octal-escaped), then optional fields
// such as shared:N up to the "-" separator.
import { readFileSync } from 'node:fs';

export interface MountAt {
  /** "/" for a whole filesystem; a subdirectory for a bind mount of it. */
  root: string;
  shared: boolean;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mounts stacked on `path`, lowest first (the last one is what the path shows). */
export function mountsAt(path: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): MountAt[] {
  const out: MountAt[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 7 || unescape(f[4]) !== path) continue;
    const optional = f.slice(6, f.indexOf('-'));
    out.push({ root: unescape(f[3]), shared: optional.some((o) => o.startsWith('shared:')) });
  }
  return out;
}
