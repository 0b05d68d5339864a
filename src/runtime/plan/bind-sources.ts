// Whether each bind mount source is a file or a directory, so the plan creates the right kind of mount point.
import { stat } from 'node:fs/promises';
import { ValidationError } from '../../common/errors.js';
import type { Spec } from '../../oci/runtime-spec.js';
import type { BindSourceKinds } from './mount-steps.js';

export async function statBindSources(spec: Spec): Promise<BindSourceKinds> {
  const kinds: BindSourceKinds = {};
  const problems: { path: string; message: string }[] = [];
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const bind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    if (!bind || !m.source) continue;
    try {
      kinds[m.source] = (await stat(m.source)).isDirectory() ? 'dir' : 'file';
    } catch (err) {
      problems.push({ path: `mounts[${i}].source`, message: `${m.source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}` });
    }
  }
  if (problems.length) throw new ValidationError('config.json', problems);
  return kinds;
}
