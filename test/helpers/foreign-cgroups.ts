// Cgroups that other runtimes (runc, containerd, podman) make for a test and leave behind: they create a container's
// cgroup in every hierarchy, the named name=systemd one too, and remove only the container's own directory. skiff
// never manages a named hierarchy, so its own cleanup of the parents it made cannot reach those.
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** The cgroups below `path` in any hierarchy, as paths relative to the hierarchy's root, deepest first. */
export function cgroupsBelow(path: string): string[] {
  const out = new Set<string>();
  const walk = (h: string, dir: string) => {
    try {
      for (const e of readdirSync(join('/sys/fs/cgroup', h, dir), { withFileTypes: true })) {
        if (e.isDirectory()) {
          out.add(join(dir, e.name));
          walk(h, join(dir, e.name));
        }
      }
    } catch {
      // not in this hierarchy
    }
  };
  for (const h of readdirSync('/sys/fs/cgroup')) walk(h, path);
  return [...out].sort((a, b) => b.split('/').length - a.split('/').length);
}

/**
 * rmdir of each path (relative to a hierarchy's root, children before parents) in every hierarchy under
 * /sys/fs/cgroup. One that is not there, or still holds a cgroup or a process, stays.
 */
export function removeEmptyCgroups(paths: string[]): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const p of paths) {
      try {
        rmdirSync(join('/sys/fs/cgroup', h, p));
      } catch {
        // not there, or in use
      }
    }
  }
}
