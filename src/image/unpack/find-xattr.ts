// Reading extended attributes, which Node's fs cannot: attr's `getfattr`, one process for a whole tree (making
// nodes and setting xattrs goes through the native helper: native-steps.ts).
import { spawnSync } from 'node:child_process';
import { SkiffError } from '../../common/errors.js';

/** Every path under `dir` (symlinks not followed) whose xattr `name` is set, with its value. */
export function findXattr(dir: string, name: string): Map<string, string> {
  const r = spawnSync('getfattr', ['-R', '-P', '-h', '--absolute-names', '-n', name, '-e', 'text', dir], { encoding: 'utf8' });
  if (r.error) throw new SkiffError(`getfattr ${dir}: ${r.error.message} (scripts/setup.sh installs the attr package)`, 'ENOENT');
  const out = new Map<string, string>();
  let file: string | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice('# file: '.length);
    else if (file && line.startsWith(`${name}=`)) out.set(file, JSON.parse(line.slice(name.length + 1)) as string);
  }
  return out;
}
