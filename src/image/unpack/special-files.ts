// What Node's fs cannot do: mknod(2) for devices, fifos and overlay whiteouts, and setxattr(2)/lgetxattr(2).
// Debian's coreutils `mknod` and attr's `setfattr`/`getfattr` do them, one short process each; layers hold few
// such entries (a whiteout per deleted path, a capability on a handful of binaries).
import { spawnSync } from 'node:child_process';
import { SkiffError } from '../../common/errors.js';

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) {
    const hint = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? ` (${cmd} is missing: scripts/setup.sh installs it)` : '';
    throw new SkiffError(`${what}: ${r.error.message}${hint}`, 'ENOENT');
  }
  if (r.status !== 0) throw new SkiffError(`${what}: ${r.stderr.trim().split('\n').pop()}`, 'EIO');
  return r.stdout;
}

export type NodeKind = 'c' | 'b' | 'p';

/** mknod(2) with exactly `mode` (permission bits incl. setuid/setgid/sticky); fifos ignore major and minor. */
export function makeNode(path: string, kind: NodeKind, mode: number, major: number, minor: number, what: string): void {
  const args = ['-m', (mode & 0o7777).toString(8), path, kind];
  if (kind !== 'p') args.push(String(major), String(minor));
  run('mknod', args, what);
}

/** lsetxattr(2): `-h` acts on a symlink itself, never its target. */
export function setXattr(path: string, name: string, value: Buffer, what: string): void {
  run('setfattr', ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, path], what);
}

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
