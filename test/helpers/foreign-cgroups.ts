// Cgroups that other runtimes (runc, containerd, podman) make for a test and leave behind: they create a container's
// cgroup in every hierarchy, the named name=systemd one too, and remove only the container's own directory. skiff
// never manages a named hierarchy, so its own cleanup of the parents it made cannot reach those.
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

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
