// skiff kube play / down: a checked Kubernetes pod (kube-spec.ts) run as a skiff pod, with no daemon, as rkt and
// podman kube play do. The pod gets the file's ports (hostPort), DNS, host aliases, namespaces and K8S_POD_* CNI
// args; each container its image, command, env, limits and securityContext; init containers run in order to
// completion before the others start (Pods.start); emptyDir volumes are directories of the pod, removed with it.
// A play that fails half way removes the pod it made.
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { defaultContainerConfig, type ContainerConfig, type MountRequest, type RestartPolicyName } from '../engine/container-config.js';
import type { KubeContainer, KubePod } from './kube-spec.js';
import { INIT_CONTAINER_LABEL } from './pod-container.js';
import type { PodCreateRequest, PodView } from './pod-types.js';
import type { Pods } from './pods.js';

/** The label that marks a pod as played from a file, so that kube down removes only what play made. */
export const KUBE_LABEL = 'io.skiff.kube';

const RESTART: Record<KubePod['restartPolicy'], RestartPolicyName> = { Always: 'always', OnFailure: 'on-failure', Never: 'no' };

export function podRequest(k: KubePod): PodCreateRequest {
  const all = [...k.initContainers, ...k.containers];
  // The kubelet's pod cgroup limit: the sum of the containers' limits, when every container has one.
  const memory = k.containers.every((c) => c.memory) ? k.containers.reduce((s, c) => s + c.memory!, 0) : undefined;
  return {
    name: k.name, labels: { ...k.labels, [KUBE_LABEL]: k.namespace }, annotations: k.annotations,
    network: k.hostNetwork ? 'host' : 'bridge',
    publish: all.flatMap((c) => c.ports.filter((p) => p.hostPort).map((p) => ({ hostPort: p.hostPort!, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIP ? { hostIP: p.hostIP } : {}) }))),
    ...(k.dns ? { dns: k.dns } : {}),
    extraHosts: k.hostAliases,
    share: { net: true, ipc: true, uts: true, pid: k.shareProcessNamespace },
    ...(k.hostname ? { hostname: k.hostname } : {}),
    ...(memory ? { resources: { memory } } : {}),
    cniArgs: {
      K8S_POD_NAMESPACE: k.namespace, K8S_POD_NAME: k.name, ...(k.uid ? { K8S_POD_UID: k.uid } : {}),
    },
  };
}

function mountsOf(c: KubeContainer, k: KubePod, emptyDirs: string): MountRequest[] {
  return c.mounts.map((m) => {
    const v = k.volumes.find((x) => x.name === m.volume)!;
    if ('emptyDir' in v) return { type: 'bind', source: join(emptyDirs, v.name), target: m.mountPath, readOnly: m.readOnly };
    const createSource = v.hostPath.type === 'DirectoryOrCreate';
    return { type: 'bind', source: v.hostPath.path, target: m.mountPath, readOnly: m.readOnly, createSource };
  });
}

export function containerConfigOf(c: KubeContainer, k: KubePod, emptyDirs: string, init: boolean): ContainerConfig {
  const cfg = defaultContainerConfig();
  if (c.command) cfg.entrypoint = c.command;
  if (c.args) cfg.command = c.args;
  cfg.env = c.env;
  cfg.workdir = c.workingDir;
  cfg.user = c.user;
  cfg.privileged = c.privileged;
  cfg.capAdd = c.capAdd;
  cfg.capDrop = c.capDrop;
  cfg.readOnlyRootfs = c.readOnlyRootfs;
  cfg.noNewPrivileges = c.noNewPrivileges;
  cfg.resources = { ...(c.memory ? { memory: c.memory } : {}), ...(c.nanoCpus ? { nanoCpus: c.nanoCpus } : {}), ...(c.cpuShares ? { cpuShares: c.cpuShares } : {}) };
  cfg.mounts = mountsOf(c, k, emptyDirs);
  cfg.labels = { [KUBE_LABEL]: k.namespace, ...(init ? { [INIT_CONTAINER_LABEL]: '' } : {}) };
  // Init containers run once; the app containers as the pod's restartPolicy says.
  if (!init) cfg.restartPolicy = { name: RESTART[k.restartPolicy], maximumRetryCount: 0 };
  return cfg;
}

/** hostPath volumes of type Directory and File must be there (Kubernetes checks them before the pod starts). */
function checkHostPaths(k: KubePod): void {
  for (const v of k.volumes) {
    if (!('hostPath' in v) || !v.hostPath.type || v.hostPath.type === 'DirectoryOrCreate') continue;
    const st = existsSync(v.hostPath.path) ? statSync(v.hostPath.path) : undefined;
    const ok = v.hostPath.type === 'Directory' ? st?.isDirectory() : st?.isFile();
    if (!ok) throw new SkiffError(`volume ${v.name}: hostPath ${v.hostPath.path} is not a ${v.hostPath.type === 'Directory' ? 'directory' : 'file'}`, 'ENOENT');
  }
}

export interface PlayOptions {
  pullMissing?: (image: string) => Promise<void>;
  /** Create only (podman kube play --start=false). */
  noStart?: boolean;
}

export async function playKube(pods: Pods, k: KubePod, o: PlayOptions = {}): Promise<PodView> {
  checkHostPaths(k);
  const pod = await pods.create(podRequest(k));
  try {
    const emptyDirs = join(pods.pc.paths.pod(pod.id), 'empty-dir');
    for (const v of k.volumes) {
      if (!('emptyDir' in v)) continue;
      // Kubernetes makes an emptyDir world-writable (0777), whatever user the containers run as.
      mkdirSync(join(emptyDirs, v.name), { recursive: true });
      chmodSync(join(emptyDirs, v.name), 0o777);
    }
    const make = async (c: KubeContainer, init: boolean) => {
      await pods.createContainer(pod.id, {
        image: c.image, name: `${k.name}-${c.name}`, config: containerConfigOf(c, k, emptyDirs, init),
        pullMissing: o.pullMissing,
      });
    };
    for (const c of k.initContainers) await make(c, true);
    for (const c of k.containers) await make(c, false);
    return o.noStart ? await pods.inspect(pod.id) : await pods.start(pod.id);
  } catch (err) {
    await pods.remove(pod.id, { force: true }).catch((e: Error) => pods.pc.ctx.warn(`pod ${k.name}: removing after a failed play: ${e.message}`));
    throw err;
  }
}

/** Removes the pod the file names, if kube play made it; a pod that is not there is not an error (podman's). */
export async function downKube(pods: Pods, k: KubePod): Promise<string | undefined> {
  let view: PodView;
  try {
    view = await pods.inspect(k.name);
  } catch (err) {
    if ((err as SkiffError).code === 'ENOENT') return undefined;
    throw err;
  }
  if (view.labels[KUBE_LABEL] === undefined) throw new SkiffError(`pod ${k.name} was not made by kube play: remove it with skiff pod rm`, 'EINVAL');
  await pods.remove(view.id, { force: true });
  return view.id;
}
