// Tar member names as layers carry them ("./usr/bin/", "etc/passwd"), checked and split into components.
// The image-spec (layer.md) names are relative to the layer root; a name that is absolute or climbs with ".."
// has no place in a layer and is refused rather than reinterpreted.
import { SkiffError } from '../../common/errors.js';

export function entryComponents(name: string, field = 'entry'): string[] {
  if (name.startsWith('/')) throw new SkiffError(`${field} "${name}": absolute path in a layer`, 'EINVAL');
  if (name.includes('\0')) throw new SkiffError(`${field} "${name}": NUL in the name`, 'EINVAL');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new SkiffError(`${field} "${name}": ".." in a layer path`, 'EINVAL');
  return parts;
}
