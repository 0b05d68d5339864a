// runc's error texts that engines look for in a runtime's stderr or --log to decide that an operation is done
// (docs/runc-errors.md has the table: which engine, which command, what it does then). Our message starts with
// runc's exact words so that a substring match finds them; why follows in parentheses.
import { SkiffError } from '../common/errors.js';
import type { ContainerStatus } from '../oci/runtime-spec.js';

function why(status: ContainerStatus): string {
  return status === 'creating' ? 'it is still being created' : `it is ${status}`;
}

/**
 * runc's ErrNotRunning. containerd's runc shim reads it after `kill` as "the process has already exited" and
 * CRI-O as "not found", so stopping a container that has exited succeeds; any other text fails the stop.
 */
export function notRunning(status: ContainerStatus): SkiffError {
  return new SkiffError(`container not running (${why(status)})`, 'ESRCH');
}

/** runc's ErrNotPaused, from `resume`. */
export function notPaused(status: ContainerStatus): SkiffError {
  return new SkiffError(`container not paused (${why(status)})`, 'EINVAL');
}
