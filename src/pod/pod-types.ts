// What a pod is asked to be (PodCreateRequest: the CLI's flags, a Kubernetes Pod file, CRI's PodSandboxConfig), what
// a user sees of it (PodView), and what its record keeps (PodRecord, <root>/pods/<id>/pod.json).
import type { PortRequest } from '../engine/container-config.js';
import type { PublishedPort } from '../engine/container-record.js';

export interface PodShare {
  pid: boolean;
  ipc: boolean;
  uts: boolean;
  net: boolean;
}

export interface PodDns {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodResources {
  /** Bytes. */
  memory?: number;
  /** CPUs in billionths (1.5 CPUs = 1.5e9). */
  nanoCpus?: number;
  pidsLimit?: number;
}

export interface PodCreateRequest {
  /** Unique among pods; generated if absent. */
  name?: string;
  hostname?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** bridge (skiff0), host, none, or the name of a skiff network. */
  network: 'bridge' | 'host' | 'none' | string;
  publish?: PortRequest[];
  dns?: PodDns;
  /** "host:ip" lines for /etc/hosts. */
  extraHosts?: string[];
  /** Defaults: net, ipc and uts shared, pid not. */
  share?: Partial<PodShare>;
  /** The cgroup the pod's containers go under, relative to each hierarchy's root; default /skiff/pods/<id>. */
  cgroupParent?: string;
  resources?: PodResources;
  /** net.* and the ipc ones (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), as the kubelet allows. */
  sysctls?: Record<string, string>;
  /** CNI_ARGS: K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID. */
  cniArgs?: Record<string, string>;
  /** Bytes of the pod's /dev/shm (default 64 MiB). */
  shmSize?: number;
  /** The runtime handler that runs the pod's containers (EngineOptions.runtimes); '' or absent: skiff's own. */
  runtime?: string;
}

export type PodStatus = 'created' | 'running' | 'exited';

export interface PodView {
  id: string;
  name: string;
  status: PodStatus;
  created: string;
  started?: string;
  finished?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostname?: string;
  network: string;
  ip?: string;
  additionalIps: string[];
  /** The pinned network namespace (undefined for a host network pod). */
  netnsPath?: string;
  pausePid?: number;
  share: PodShare;
  /** Engine container IDs, in creation order. */
  containers: string[];
  cgroupParent: string;
  publish: PortRequest[];
}

/** What a started sandbox holds, kept while it runs so that stop (or reconcile after a crash) can take it down. */
export interface SandboxState {
  pause: { pid: number; startTime: string };
  netnsPath?: string;
  ips: string[];
  ports: PublishedPort[];
}

export interface PodRecord {
  id: string;
  name: string;
  created: string;
  config: Required<Omit<PodCreateRequest, 'name' | 'hostname' | 'share' | 'shmSize'>> & {
    hostname?: string;
    share: PodShare;
    shmSize: number;
  };
  containers: string[];
  /** `removing`: a removal in progress (or killed: finished by the next command). */
  status: 'created' | 'running' | 'exited' | 'removing';
  started?: string;
  finished?: string;
  sandbox?: SandboxState;
  /**
   * Written before CNI ADD: the network and the ports (host ports chosen) being attached, so that a start killed
   * before the result is cached can still be DELeted (plugins that ran keep their rules and addresses).
   */
  attaching?: { network: string; netns: string; ports: PublishedPort[] };
}
