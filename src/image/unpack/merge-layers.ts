// The copying fallback for a container's rootfs where overlayfs cannot be mounted: the layer directories are
// merged into one plain directory, bottom first, with overlay's rules applied by hand (overlayfs.rst "whiteouts
// and opaque directories"): a 0/0 character device deletes the path below it, an opaque directory hides the
// lower directory's content, and an upper non-directory replaces a lower directory (and the reverse).
import { spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SkiffError } from '../../common/errors.js';
import { findXattr } from './find-xattr.js';

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * GNU tar piped into GNU tar keeps owners, modes, times, hard links, devices and xattrs (security.capability
 * included), and unlike `cp -a` can leave out the whiteouts (which an overlayfs destination refuses to hold) and
 * overlay's own trusted.overlay.* xattrs.
 */
async function copyTree(from: string, to: string, exclude: string[]): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'skiff-merge-'));
  try {
    const list = join(tmp, 'exclude');
    writeFileSync(list, exclude.map((p) => `./${p}\n`).join(''));
    const xattrs = ['--xattrs', '--xattrs-include=*', '--xattrs-exclude=trusted.overlay.*'];
    const pack = spawn('tar', ['-C', from, '-cf', '-', '--no-wildcards', '--anchored', `--exclude-from=${list}`, ...xattrs, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const unpack = spawn('tar', ['-C', to, '-xpf', '-', '--same-owner', ...xattrs], { stdio: ['pipe', 'ignore', 'pipe'] });
    pack.stdout!.pipe(unpack.stdin!);
    const stderr: string[] = [];
    for (const p of [pack, unpack]) p.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
    const codes = await Promise.all([pack, unpack].map((p) => new Promise<number | null>((resolve) => p.on('close', resolve))));
    if (codes.some((c) => c !== 0)) throw new SkiffError(`copying layer ${from} into ${to}: ${stderr.join('').trim().split('\n').pop()}`, 'EIO');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Copies `layers` (bottom first) into `dest`, which must exist. */
export async function mergeLayers(layers: string[], dest: string): Promise<void> {
  for (const layer of layers) {
    for (const [dir, value] of findXattr(layer, 'trusted.overlay.opaque')) {
      if (value === 'y' && dir !== layer) rmSync(join(dest, relative(layer, dir)), { recursive: true, force: true });
    }
    const whiteouts: string[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(join(layer, rel))) {
        const sub = join(rel, name);
        const src = lstatSync(join(layer, sub));
        const have = lstatOrUndefined(join(dest, sub));
        if (isWhiteout(src)) whiteouts.push(sub);
        if (have && (isWhiteout(src) || have.isDirectory() !== src.isDirectory())) rmSync(join(dest, sub), { recursive: true, force: true });
        if (src.isDirectory()) walk(sub);
      }
    };
    walk('');
    await copyTree(layer, dest, whiteouts);
  }
}
