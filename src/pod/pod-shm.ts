// A pod's /dev/shm: one tmpfs under the state directory that each of its containers bind-mounts, so POSIX shared
// memory (shm_open) is shared across the pod as SysV shm is through the ipc namespace. Mounting needs the native
// helper (Node has no mount(2)).
import { existsSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { MS } from '../common/linux-flags.js';
import { foreignMountAt } from '../common/mountinfo.js';
import { launch } from '../native/launcher.js';
import { step, type Step } from '../native/step.js';
import { unmountStacked } from '../native/unmount.js';

const run = (plan: Step[]) => launch({ plan: [...plan, step('ready')], stdio: ['ignore', 'ignore', 'ignore'] });

export async function mountShm(path: string, sizeBytes: number): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  if (foreignMountAt(path)) return;
  await run([step('mount', ['shm', path, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, `mode=1777,size=${Math.floor(sizeBytes / 1024)}k`], 'shmSize', `mount the pod's /dev/shm on ${path}`)]);
}

/** Idempotent: every mount at `path` taken down, then the directory. */
export async function unmountShm(path: string): Promise<void> {
  await unmountStacked(path, 'unmount');
  if (existsSync(path)) await rmdir(path);
}
