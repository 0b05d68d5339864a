// A stand-in for the pod layer (src/pod's Pods) in tests of the CRI's container calls: "pods" on the node's
// network that only record what RunPodSandbox asked for, and containers made in them through the real engine
// (config.pod set; no shared namespaces, no pause). It satisfies src/cri/sandboxes.ts as Pods does.
import { randomBytes } from 'node:crypto';
import { SkiffError } from '../../src/common/errors.js';
import type { CreateRequest } from '../../src/engine/container-create.js';
import type { ContainerRecord } from '../../src/engine/container-record.js';
import type { Engine } from '../../src/engine/engine.js';
import type { PodCreateRequest, PodView, Sandboxes } from '../../src/cri/sandboxes.js';

export class HostSandboxes implements Sandboxes {
  readonly pods = new Map<string, PodView>();
  readonly requests: PodCreateRequest[] = [];
  /** A network namespace (a pinned path) the next pod made gets as its own, with a network of that name. */
  nextNetns?: { path: string; network: string };

  constructor(private readonly engine: Engine) {}

  async create(req: PodCreateRequest): Promise<PodView> {
    if ([...this.pods.values()].some((p) => p.name === req.name)) throw new SkiffError(`pod name ${req.name} in use`, 'EEXIST');
    this.requests.push(req);
    const id = randomBytes(32).toString('hex');
    const pod: PodView = {
      id, name: req.name ?? id, status: 'created', created: new Date().toISOString(), labels: req.labels ?? {}, annotations: req.annotations ?? {},
      network: 'host', additionalIps: [], containers: [],
      share: { pid: Boolean(req.share?.pid), ipc: Boolean(req.share?.ipc), uts: Boolean(req.share?.uts), net: Boolean(req.share?.net) },
      cgroupParent: req.cgroupParent ?? '/skiff', publish: req.publish ?? [],
    };
    if (this.nextNetns) {
      pod.netnsPath = this.nextNetns.path;
      pod.network = this.nextNetns.network;
      this.nextNetns = undefined;
    }
    this.pods.set(id, pod);
    return pod;
  }

  async startSandbox(ref: string): Promise<PodView> {
    const pod = await this.inspect(ref);
    pod.status = 'running';
    pod.started = new Date().toISOString();
    return pod;
  }

  async stop(ref: string): Promise<void> {
    const pod = await this.inspect(ref);
    for (const id of pod.containers) await this.engine.stop(id, 0).catch(() => {});
    pod.status = 'exited';
  }

  async remove(ref: string): Promise<void> {
    const pod = await this.inspect(ref);
    for (const id of pod.containers) await this.engine.remove(id, { force: true, volumes: true }).catch(() => {});
    this.pods.delete(pod.id);
  }

  async inspect(ref: string): Promise<PodView> {
    const pod = this.pods.get(await this.resolve(ref));
    if (!pod) throw new SkiffError(`no such pod ${ref}`, 'ENOENT');
    return pod;
  }

  async list(): Promise<PodView[]> {
    return [...this.pods.values()];
  }

  async resolve(ref: string): Promise<string> {
    const matches = [...this.pods.keys()].filter((id) => id.startsWith(ref));
    if (matches.length !== 1) throw new SkiffError(`no such pod ${ref}`, 'ENOENT');
    return matches[0];
  }

  async createContainer(podRef: string, req: CreateRequest): Promise<ContainerRecord> {
    const pod = await this.inspect(podRef);
    // No namespace to join here: a network of its own with only lo, unless the pod has the node's.
    const networkMode = pod.network === 'host' ? 'host' : 'none';
    const rec = await this.engine.create({ ...req, config: { ...req.config, networkMode, pod: pod.id } });
    pod.containers.push(rec.id);
    return rec;
  }
}
