// Where the native helper is: $SKIFF_INIT, or native/build/skiff-init in this package (built by scripts/setup.sh).
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../../common/errors.js';

let cached: string | undefined;

export function nativeHelperPath(): string {
  if (cached) return cached;
  const path = process.env.SKIFF_INIT
    ?? fileURLToPath(new URL('../../../../native/build/skiff-init', import.meta.url));
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new SkiffError(`native helper ${path} is missing: run scripts/setup.sh to build it`, 'ENOENT');
  }
  cached = path;
  return path;
}
