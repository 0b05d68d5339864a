// What the CRI's sandbox calls need from the pod layer (src/pod/, issue 13): the part of its Pods API they use,
// declared here so that the CRI layer states its needs and `Pods` satisfies this structurally. A sandbox is a pod;
// the CRI's own facts about it (metadata, log directory, namespace options) ride in its annotations (cri-keys.ts).
import type { CreateRequest } from '../engine/container-create.js';
import type { PortRequest } from '../engine/container-config.js';
import type { ContainerRecord } from '../engine/container-record.js';

export interface PodCreateRequest {
  name?: string;
  hostname?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** 'bridge', 'host', 'none' or the name of a CNI network. */
  network: string;
  publish?: PortRequest[];
  dns?: { servers: string[]; searches: string[]; options: string[] };
  extraHosts?: string[];
  share?: { pid?: boolean; ipc?: boolean; uts?: boolean; net?: boolean };
  cgroupParent?: string;
  resources?: { memory?: number; nanoCpus?: number; pidsLimit?: number };
  sysctls?: Record<string, string>;
  cniArgs?: Record<string, string>;
  shmSize?: number;
}

export interface PodView {
  id: string;
  name: string;
  status: 'created' | 'running' | 'exited';
  created: string;
  started?: string;
  finished?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostname?: string;
  network: string;
  ip?: string;
  additionalIps: string[];
  /** The pod's pinned network namespace. */
  netnsPath?: string;
  pausePid?: number;
  share: { pid: boolean; ipc: boolean; uts: boolean; net: boolean };
  /** Its containers' IDs. */
  containers: string[];
  cgroupParent: string;
  publish: PortRequest[];
}

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
