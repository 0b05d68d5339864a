// CheckpointContainer: skiff has no checkpointing (no CRIU). The answer is containerd's (1.6 and 1.7):
// UNIMPLEMENTED, "method CheckpointContainer not implemented", which the kubelet's checkpoint API passes on and its
// e2e test recognises as "this runtime does not implement it".
import { status } from '@grpc/grpc-js';
import { CriError } from './grpc-error.js';

export async function containerCheckpoint(): Promise<never> {
  throw new CriError(status.UNIMPLEMENTED, 'method CheckpointContainer not implemented');
}
