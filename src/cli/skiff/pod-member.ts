// skiff run/create --pod POD | --pod new:NAME: the container created in a pod (podman's --pod). With new:NAME the
// pod is made first and, as podman does, takes the container's -p and --network; it is removed again if the
// container cannot be created.
import type { CreateRequest } from '../../engine/container-create.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import type { Engine } from '../../engine/engine.js';
import { SkiffError } from '../../common/errors.js';
import { Pods } from '../../pod/pods.js';

export interface PodMember {
  pods: Pods;
  podId: string;
  rec: ContainerRecord;
}

export async function createInPod(engine: Engine, pod: string, req: CreateRequest): Promise<PodMember> {
  const pods = new Pods(engine);
  if (!pod.startsWith('new:')) {
    const podId = await pods.resolve(pod);
    return { pods, podId, rec: await pods.createContainer(podId, req) };
  }
  const name = pod.slice('new:'.length);
  if (!name) throw new SkiffError('--pod new:NAME: the new pod needs a name', 'EINVAL');
  const cfg = req.config;
  const made = await pods.create({ name, network: cfg.networkMode, publish: cfg.publish });
  try {
    const config = { ...cfg, publish: [], networkMode: 'bridge' };
    return { pods, podId: made.id, rec: await pods.createContainer(made.id, { ...req, config }) };
  } catch (err) {
    await pods.remove(made.id, { force: true }).catch(() => {});
    throw err;
  }
}
