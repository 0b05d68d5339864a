// A container's root filesystem: an overlay of the image's layer directories with the container's own upper and
// work directories (overlayfs.rst). Node cannot mount, so the native helper runs a one-step plan.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { launch } from '../runtime/native/launcher.js';
import { step } from '../runtime/plan/step.js';

const MNT_DETACH = 2;

export interface PreparedRootfs {
  path: string;
  remove(): Promise<void>;
}

/** Mounts the overlay at <stateDir>/rootfs with upper and work under <dataDir>; remove() undoes all of it. */
export async function prepareRootfs(layers: string[], dataDir: string, stateDir: string): Promise<PreparedRootfs> {
  const upper = join(dataDir, 'upper'), work = join(dataDir, 'work'), path = join(stateDir, 'rootfs');
  for (const d of [upper, work, path]) mkdirSync(d, { recursive: true });
  // Garbage collection keeps the snapshots a container stands on (src/image/gc.ts reads this).
  writeFileSync(join(dataDir, 'snapshots.json'), JSON.stringify(layers.map((l) => basename(dirname(l)))));
  // overlayfs lists lower directories top first.
  const data = `lowerdir=${[...layers].reverse().join(':')},upperdir=${upper},workdir=${work}`;
  const cleanup = () => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(path, { recursive: true, force: true });
  };
  try {
    await launch({ plan: [step('mount', ['overlay', path, 'overlay', 0, data], undefined, `mount the overlay rootfs on ${path}`), step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    path,
    async remove() {
      await launch({ plan: [step('umount', [path, MNT_DETACH], undefined, `unmount ${path}`), step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });
      cleanup();
    },
  };
}
