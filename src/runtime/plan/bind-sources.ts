// Whether each bind mount source is a file or a directory, so the plan creates the right kind of mount point.
import { statSync } from 'node:fs';
import { ValidationError, type Problem } from '../../common/errors.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { bindSourcePath, isBindMount, type BindSourceKinds } from './mount-steps.js';

/**
 * Looks at every bind source (relative ones inside `bundle`, as config.md says). A missing source is a
 * ValidationError naming mounts[i].source; all of them are reported together.
 */
export async function statBindSources(spec: Spec, bundle?: string): Promise<BindSourceKinds> {
  const kinds: BindSourceKinds = {};
  const problems: Problem[] = [];
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    if (!isBindMount(m) || !m.source) continue;
    const field = `mounts[${i}].source`;
    if (!m.source.startsWith('/') && bundle === undefined) {
      problems.push({ path: field, message: `"${m.source}" is relative to the bundle, which was not given` });
      continue;
    }
    const path = bindSourcePath(m.source, bundle ?? '/');
    try {
      kinds[m.source] = statSync(path).isDirectory() ? 'dir' : 'file';
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      problems.push({ path: field, message: `${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}` });
    }
  }
  if (problems.length) throw new ValidationError('config.json', problems);
  return kinds;
}
