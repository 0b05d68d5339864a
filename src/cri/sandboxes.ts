// What the CRI's sandbox calls need from the pod layer (src/pod/): the part of its Pods API they use, declared here
// so that the CRI layer states its needs, `Pods` satisfies this structurally and tests can stand in for it. A
// sandbox is a pod; the CRI's own facts about it (metadata, log directory, namespace options) ride in its
// annotations (cri-keys.ts).
import type { CreateRequest } from '../engine/container-create.js';
import type { ContainerRecord } from '../engine/container-record.js';
import type { PodCreateRequest, PodView } from '../pod/pod-types.js';

export type { PodCreateRequest, PodView } from '../pod/pod-types.js';

export interface Sandboxes {
  create(req: PodCreateRequest): Promise<PodView>;
  startSandbox(ref: string): Promise<PodView>;
  stop(ref: string, timeoutSec?: number): Promise<void>;
  remove(ref: string, o: { force?: boolean }): Promise<void>;
  inspect(ref: string): Promise<PodView>;
  list(): Promise<PodView[]>;
  resolve(ref: string): Promise<string>;
  /** A container in the pod: config.pod and config.shared set from the pod. */
  createContainer(podRef: string, req: CreateRequest): Promise<ContainerRecord>;
}
