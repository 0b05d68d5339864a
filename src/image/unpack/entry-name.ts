// Tar member names as layers carry them ("./usr/bin/", "etc/passwd", "/" from umoci insert), checked and split
// into components. A leading "/" means the layer root, as docker and containerd read it (the name is joined onto
// the root); a name that climbs with ".." has no place in a layer and is refused rather than reinterpreted.
import { SkiffError } from '../../common/errors.js';

export function entryComponents(name: string, field = 'entry'): string[] {
  if (name.includes('\0')) throw new SkiffError(`${field} "${name}": NUL in the name`, 'EINVAL');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new SkiffError(`${field} "${name}": ".." in a layer path`, 'EINVAL');
  return parts;
}
