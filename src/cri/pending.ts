// The RuntimeService calls that translate onto the engine and pods (issues 12 and 13), filled in as those land.
// Until then each is registered and answers UNIMPLEMENTED with a message naming it, so crictl and the kubelet say
// plainly what is missing instead of "unknown method".
import { status } from '@grpc/grpc-js';
import { CriError } from './grpc-error.js';

export function pendingCall(method: string): CriError {
  return new CriError(status.UNIMPLEMENTED, `method ${method} not implemented yet: skiffd serves it once the engine and pods are in (issue 14)`);
}
