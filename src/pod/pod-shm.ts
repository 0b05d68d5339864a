// A pod's /dev/shm: one tmpfs under the state directory that each of its containers bind-mounts, so POSIX shared
// memory (shm_open) is shared across the pod as SysV shm is through the ipc namespace. Mounting needs the native
// helper (Node has no mount(2)): the pause's launch mounts it, beside its namespace pins.
import { existsSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { MS } from '../common/linux-flags.js';
import { foreignMountAt } from '../common/mountinfo.js';
import { step, type Step } from '../native/step.js';
import { unmountEach, type UnmountTarget } from '../native/unmount.js';

/**
 * Makes the directory and returns the steps that mount the tmpfs on it, for a launch in the host's mount namespace
 * (the pause's first phase); none if it is mounted already. Undone by unmountShm.
 */
export async function shmMountSteps(path: string, sizeBytes: number): Promise<Step[]> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  if (foreignMountAt(path)) return [];
  return [step('mount', ['shm', path, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, `mode=1777,size=${Math.floor(sizeBytes / 1024)}k`], 'shmSize', `mount the pod's /dev/shm on ${path}`)];
}

/** What unmountEach needs to take the tmpfs down in one launch with other unmounts; removeShmDir after it. */
export function shmUnmountTarget(path: string): UnmountTarget {
  return { path, what: 'unmount' };
}

export async function removeShmDir(path: string): Promise<void> {
  if (existsSync(path)) await rmdir(path);
}

/** Idempotent: every mount at `path` taken down, then the directory. */
export async function unmountShm(path: string): Promise<void> {
  await unmountEach([shmUnmountTarget(path)]);
  await removeShmDir(path);
}
