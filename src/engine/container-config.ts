// What a container is asked to be, as the engine keeps it in its record: the front doors (docker's flags, later
// CRI) translate into this, the engine turns it into a runtime spec at each start (container-spec.ts). Names follow
// docker's Config and HostConfig where docker has the same thing.

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure only: how many restarts at most (0 = no limit). */
  maximumRetryCount: number;
}

/** A port to publish; hostPort 0 asks for a free port chosen at start (docker's -P, or -p CTRPORT). */
export interface PortRequest {
  hostIP?: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export type MountRequest =
  /** createSource: a missing host directory is made (docker -v); otherwise it is an error (--mount). */
  | { type: 'bind'; source: string; target: string; readOnly: boolean; propagation?: string; createSource?: boolean }
  /** A named volume (made on first use), or an anonymous one (no source; removed with rm -v). */
  | { type: 'volume'; source?: string; target: string; readOnly: boolean; noCopy?: boolean; anonymous?: boolean }
  | { type: 'tmpfs'; target: string; readOnly: boolean; sizeBytes?: number; mode?: number; options?: string[] };

export interface ContainerResources {
  /** Bytes. */
  memory?: number;
  /** Bytes of memory plus swap; -1 unlimited swap. */
  memorySwap?: number;
  /** CPUs in billionths (docker's NanoCPUs): 1.5 CPUs = 1.5e9. */
  nanoCpus?: number;
  cpuShares?: number;
  /** -1 or 0: no limit. */
  pidsLimit?: number;
  /** CFS period and quota in microseconds, as given (CRI's cpu_period, cpu_quota; nanoCpus is docker's shorthand). */
  cpuPeriod?: number;
  cpuQuota?: number;
  /** cpuset.cpus and cpuset.mems lists ("0-1,3"). */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** hugetlb limits in bytes by page size as the cgroup files name it ("2MB"). */
  hugepageLimits?: { pageSize: string; limit: number }[];
}

/** A host device node (or every node under a host directory) made in the container (docker --device). */
export interface DeviceRequest {
  hostPath: string;
  containerPath: string;
  /** What the device cgroup allows: any of r, w, m. */
  permissions: string;
}

/** A namespace chosen over the pod's: the host's ('host'), a new one ('private'), or the one at a path. */
export type NamespaceMode = 'host' | 'private' | { path: string };

export interface ContainerConfig {
  /** Replaces the image's Cmd. */
  command?: string[];
  /** Replaces the image's Entrypoint (and then the image's Cmd is not used); [] clears it. */
  entrypoint?: string[];
  env: string[];
  workdir?: string;
  /** user, uid, user:group, uid:gid (resolved against the image's files at start). */
  user?: string;
  /** A terminal for the process (docker -t). */
  tty: boolean;
  /** Keep stdin open (docker -i): the monitor holds it for attach. */
  openStdin: boolean;
  hostname?: string;
  labels: Record<string, string>;
  stopSignal?: string;
  /** Seconds between the stop signal and SIGKILL. */
  stopTimeout?: number;
  /** An init process (catatonit) as PID 1 that forwards signals and reaps zombies (docker --init). */
  init: boolean;

  autoRemove: boolean;
  restartPolicy: RestartPolicy;
  /** none, host, bridge (the default network skiff0), or the name of a network. */
  networkMode: string;
  publish: PortRequest[];
  /** Publish every port the image exposes on a free host port (docker -P). */
  publishAll: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** host:ip lines added to /etc/hosts (docker --add-host). */
  extraHosts: string[];
  mounts: MountRequest[];
  readOnlyRootfs: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  /** 'unconfined', a profile file (docker's format) as read at create, or undefined for the default profile. */
  seccomp?: 'unconfined' | { file: string; text: string };
  noNewPrivileges: boolean;
  resources: ContainerResources;
  /** Bytes of /dev/shm (docker --shm-size; default 64 MiB). */
  shmSize?: number;
  /** Runtime spec annotations besides the labels (CRI annotations). */
  annotations?: Record<string, string>;
  devices?: DeviceRequest[];
  /** Supplementary group IDs added to the user's own (docker --group-add, CRI supplemental_groups). */
  groupAdd?: number[];
  /** Where the monitor writes the container's CRI-format log, instead of the container's directory (CRI log_path). */
  logPath?: string;
  /** The first attach client that closes stdin closes the container's (docker's StdinOnce). */
  stdinOnce?: boolean;
  oomScoreAdj?: number;
  /** Replace the default masked and read-only paths (CRI masked_paths, readonly_paths). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** pid and ipc namespaces chosen over the pod's shared ones (CRI namespace_options). */
  namespaceModes?: { pid?: NamespaceMode; ipc?: NamespaceMode };
  /** The runtime handler that runs it (EngineOptions.runtimes); absent: skiff's own runtime. */
  runtime?: string;
  /** The pod this container belongs to (its ID): it shares what `shared` gives instead of having its own. */
  pod?: string;
  shared?: SharedWithPod;
}

/**
 * What a pod's containers share, made by the pod layer: pinned namespaces joined by path (podman's --network
 * ns:PATH), the pod's cgroup as the parent of the container's, and the pod's hosts files and /dev/shm.
 */
export interface SharedWithPod {
  namespaces: { network?: string; ipc?: string; uts?: string; pid?: string; user?: string };
  /** The cgroup the container's goes under (relative to each hierarchy's root), e.g. /skiff/pods/ID. */
  cgroupParent?: string;
  files?: { hosts: string; resolvConf: string; hostname: string };
  /** A directory (the pod's tmpfs) bind-mounted at /dev/shm. */
  shm?: string;
  /** The pod's hostname (uts namespace). */
  hostname?: string;
}

export function defaultContainerConfig(): ContainerConfig {
  return {
    env: [], tty: false, openStdin: false, labels: {}, init: false, autoRemove: false,
    restartPolicy: { name: 'no', maximumRetryCount: 0 }, networkMode: 'bridge', publish: [], publishAll: false,
    dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], mounts: [], readOnlyRootfs: false, capAdd: [], capDrop: [],
    privileged: false, noNewPrivileges: false, resources: {},
  };
}
