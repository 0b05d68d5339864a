// Where the native helper is: $SKIFF_INIT, or native/build/skiff-init in this package (built by scripts/setup.sh).
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../common/errors.js';

let cached: string | undefined;

export function nativeHelperPath(): string {
  if (cached) return cached;
  const path = process.env.SKIFF_INIT ?? join(packageRoot(), 'native/build/skiff-init');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new SkiffError(`native helper ${path} is missing: run scripts/setup.sh to build it`, 'ENOENT');
  }
  cached = path;
  return path;
}

/** The checkout this module runs from: the nearest directory up with a package.json (tsc output or a bundle). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
