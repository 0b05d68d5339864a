// The OCI status of a container, computed from what create recorded and the live system (runtime-spec
// runtime.md "State"): creating, created (init waits on the exec fifo), running, paused (frozen), stopped.
import { existsSync } from 'node:fs';
import type { ContainerStatus, State } from '../oci/runtime-spec.js';
import type { ContainerRecord } from './container-store.js';
import { isSameProcessAlive } from './proc.js';

export async function computeStatus(
  rec: ContainerRecord, fifoPath: string, isFrozen: () => Promise<boolean>,
): Promise<ContainerStatus> {
  if (rec.pid === 0) return rec.creating ? 'creating' : 'stopped';
  if (!(await isSameProcessAlive(rec.pid, rec.pidStartTime))) return 'stopped';
  if (rec.creating) return 'creating';
  // Frozen first: a created container can be paused too (runc allows it), and is then paused, not created; its
  // init is frozen while it waits on the exec fifo, so `start` must refuse it rather than wait for ever.
  if (await isFrozen()) return 'paused';
  return existsSync(fifoPath) ? 'created' : 'running';
}

/** The state document of the runtime spec, with runc's extra fields (rootfs, created, owner). */
export function stateDocument(rec: ContainerRecord, status: ContainerStatus): State & Record<string, unknown> {
  const doc: State & Record<string, unknown> = {
    ociVersion: rec.spec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: '',
  };
  if (rec.spec.annotations && Object.keys(rec.spec.annotations).length) doc.annotations = rec.spec.annotations;
  return doc;
}

