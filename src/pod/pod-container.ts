// A container of a pod: its config checked against the pod's (ports and the hostname belong to the pod) and given
// what the pod shares (SharedWithPod): the pinned namespaces by path, the cgroup parent, the hosts files, /dev/shm.
import { SkiffError, ValidationError, type Problem } from '../common/errors.js';
import type { ContainerConfig, SharedWithPod } from '../engine/container-config.js';
import type { PodContext } from './pod-context.js';
import { podFiles, podHostname } from './pod-files.js';
import { nsPinName } from './pod-sandbox.js';
import type { PodRecord } from './pod-types.js';

/** Marks a container of the pod that runs to completion, in order, before the others start (Kubernetes initContainers). */
export const INIT_CONTAINER_LABEL = 'io.skiff.pod.init-container';

export function sharedWithPod(pc: PodContext, rec: PodRecord): SharedWithPod {
  const s = rec.config.share;
  const pin = (t: string) => pc.nsPins.path(nsPinName(rec.id, t));
  return {
    namespaces: {
      ...(s.net && rec.config.network !== 'host' ? { network: pc.network().netns.path(rec.id) } : {}),
      ...(s.ipc ? { ipc: pin('ipc') } : {}),
      ...(s.uts ? { uts: pin('uts') } : {}),
      ...(s.pid ? { pid: pin('pid') } : {}),
    },
    cgroupParent: rec.config.cgroupParent,
    files: podFiles(pc, rec.id),
    ...(s.ipc ? { shm: pc.paths.shm(rec.id) } : {}),
    ...(s.uts ? { hostname: podHostname(rec) } : {}),
  };
}

/** The container's config as a member of the pod; every conflict with the pod named. */
export function podContainerConfig(pc: PodContext, rec: PodRecord, cfg: ContainerConfig): ContainerConfig {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const s = rec.config.share;
  if (cfg.publish.length || cfg.publishAll) add('-p', `ports belong to the pod: publish them on pod ${rec.name} (skiff pod create -p)`);
  if (s.net && cfg.networkMode !== 'bridge' && cfg.networkMode !== rec.config.network) {
    add('--network', `the container shares the network of pod ${rec.name} (${rec.config.network})`);
  }
  if (s.uts && cfg.hostname !== undefined) add('--hostname', `the container shares the uts namespace of pod ${rec.name}: give the pod the hostname`);
  if ((cfg.dns.length || cfg.dnsSearch.length || cfg.dnsOptions.length || cfg.extraHosts.length)) {
    add('--dns', `the container uses the /etc/resolv.conf and /etc/hosts of pod ${rec.name}: set them on the pod`);
  }
  if (cfg.pod !== undefined && cfg.pod !== rec.id) add('pod', `the container is already in pod ${cfg.pod}`);
  if (cfg.runtime !== undefined && cfg.runtime !== (rec.config.runtime || undefined)) {
    add('--runtime', `the containers of pod ${rec.name} run under ${rec.config.runtime ? `the "${rec.config.runtime}" runtime handler` : 'skiff\'s own runtime'}`);
  }
  if (problems.length) throw new ValidationError('create', problems);
  if (rec.status === 'removing') throw new SkiffError(`pod ${rec.name} is being removed`, 'EINVAL');
  return {
    ...cfg,
    networkMode: s.net ? rec.config.network : cfg.networkMode,
    // Records of pods made before handlers existed have none.
    ...(rec.config.runtime ? { runtime: rec.config.runtime } : {}),
    pod: rec.id,
    shared: sharedWithPod(pc, rec),
  };
}
