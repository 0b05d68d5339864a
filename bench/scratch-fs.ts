// A new, empty ext4 filesystem (mkfs defaults, so with a journal) on a sparse file, loop-mounted for one benchmark.
// Timing many small files on the host's own filesystem measures its history as much as the tool: on ext4 without a
// journal (this VM's root) the inode allocator steps over inodes freed in the last minute or more
// (fs/ext4/ialloc.c, recently_deleted), and a pull right after ~50k files were deleted took 6.9 s instead of 2.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function run(argv: string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
}

export interface ScratchFs {
  /** Where it is mounted. */
  path: string;
  /** Unmounts it (lazily, so a mount left on it cannot keep it) and deletes its backing file. */
  remove(): void;
}

/** Makes `${dir}/scratch.img` (`gib` GiB, sparse) and mounts it on `${dir}/scratch`. */
export function scratchExt4(dir: string, gib: number): ScratchFs {
  const image = join(dir, 'scratch.img');
  const path = join(dir, 'scratch');
  run(['truncate', '-s', `${gib}G`, image]);
  try {
    run(['mkfs.ext4', '-q', '-F', image]);
    mkdirSync(path);
    // -o loop attaches a loop device with autoclear: it detaches itself when the filesystem is unmounted.
    run(['mount', '-o', 'loop', image, path]);
  } catch (err) {
    rmSync(image, { force: true });
    throw err;
  }
  return {
    path,
    remove() {
      spawnSync('umount', ['-l', path]);
      rmSync(image, { force: true });
    },
  };
}
