// The flags of the mount each bind source lies on. In a new user namespace the kernel locks them on every mount
// copied into the container's mount namespace (mount_namespaces(7) "Restrictions on mount namespaces": MS_RDONLY,
// MS_NOSUID, MS_NOEXEC, MS_NODEV and the atime flags), so the plan's remount of a bind must keep them or fail with
// EPERM (runc does the same).
import { readFile, realpath } from 'node:fs/promises';
import type { Spec } from '../../oci/runtime-spec.js';
import { mountContaining, parseMountinfo } from '../../common/mountinfo.js';
import { bindSourcePath, isBindMount } from './mount-steps.js';

/** Bind source (as written in config.json) -> MS_* flags of the mount it is on. Missing sources are left out. */
export async function bindSourceFlags(spec: Spec, bundle: string, mountinfo?: string): Promise<Record<string, number>> {
  const entries = parseMountinfo(mountinfo ?? await readFile('/proc/self/mountinfo', 'utf8'));
  const flags: Record<string, number> = {};
  for (const m of spec.mounts ?? []) {
    if (!isBindMount(m) || !m.source) continue;
    const real = await realpath(bindSourcePath(m.source, bundle)).catch(() => undefined);
    const mount = real && mountContaining(real, entries);
    if (mount) flags[m.source] = mount.flags;
  }
  return flags;
}
