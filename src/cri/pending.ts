// What a call answers when what it needs is not in this skiffd (the streaming server absent).
// Until then each is registered and answers UNIMPLEMENTED with a message naming it, so crictl and the kubelet say
// plainly what is missing instead of "unknown method".
import { status } from '@grpc/grpc-js';
import { CriError } from './grpc-error.js';

export function pendingCall(method: string): CriError {
  return new CriError(status.UNIMPLEMENTED, `method ${method} not implemented yet: skiffd serves it once the engine and pods are in (issue 14)`);
}
