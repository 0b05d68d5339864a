// Errors as gRPC statuses, the way containerd's CRI plugin reports them (errdefs.ToGRPC): what is not there is
// NOT_FOUND, a bad request is INVALID_ARGUMENT, and every other failure is UNKNOWN with the message that names its
// cause. A handler throws a CriError when the API itself fixes the code (UNIMPLEMENTED, RESOURCE_EXHAUSTED...).
import { status, type ServiceError } from '@grpc/grpc-js';
import { SkiffError } from '../common/errors.js';

export class CriError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
    this.name = 'CriError';
  }
}

export const invalidArgument = (message: string) => new CriError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new CriError(status.NOT_FOUND, message);

/** The status for a library error's code (SkiffError's errno-like codes). */
function statusOf(err: unknown): status {
  if (err instanceof CriError) return err.code;
  if (err instanceof SkiffError) {
    if (err.code === 'ENOENT') return status.NOT_FOUND;
    if (err.code === 'EINVAL') return status.INVALID_ARGUMENT;
  }
  return status.UNKNOWN;
}

/** What grpc-js sends for a thrown error: its status code and one line of message. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const message = err instanceof Error ? err.message : String(err);
  return { code: statusOf(err), details: message.split('\n')[0] };
}
