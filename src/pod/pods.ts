// Pods on the engine: the one door the user CLI (skiff pod, kube play) and skiffd's CRI sandbox calls use. A pod is
// a record under <root>/pods/<id>/ and, while it runs, a sandbox (pod-sandbox.ts) that its containers join. Every
// operation works under the pod's lock and first brings what a killed command left in line (a sandbox of a pod that
// is not running is taken down, a directory without a record is swept).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { SkiffError } from '../common/errors.js';
import { UndoStack } from '../common/undo.js';
import type { CreateRequest } from '../engine/container-create.js';
import type { ContainerRecord } from '../engine/container-record.js';
import { networkName } from '../engine/container-network.js';
import type { Engine } from '../engine/engine.js';
import { checkName, generatedName, newContainerId } from '../engine/names.js';
import { PodContext } from './pod-context.js';
import { podConfig } from './pod-config.js';
import { INIT_CONTAINER_LABEL, podContainerConfig } from './pod-container.js';
import { writePodFiles } from './pod-files.js';
import { detachSandboxNetwork, pauseAlive, sandboxLeftovers, startSandbox, teardownSandbox } from './pod-sandbox.js';
import type { PodCreateRequest, PodRecord, PodView } from './pod-types.js';
import { podView } from './pod-view.js';
import { byCodeUnits } from '../common/compare.js';

export type { PodCreateRequest, PodView, PodShare, PodDns, PodResources } from './pod-types.js';
export { INIT_CONTAINER_LABEL } from './pod-container.js';

/** Lock wait of read-only calls: a pod another command works on is shown as its record says. */
const NO_WAIT = 0;

export class Pods {
  readonly pc: PodContext;

  constructor(readonly engine: Engine) {
    this.pc = new PodContext(engine);
  }

  resolve(ref: string): Promise<string> {
    return this.pc.records.resolve(ref);
  }

  /** podman pod create: the record, the name and the hosts files; nothing runs. */
  async create(req: PodCreateRequest): Promise<PodView> {
    const id = newContainerId();
    const config = podConfig(req, id);
    if (config.runtime) {
      try {
        this.pc.ctx.checkRuntime(config.runtime);
      } catch (err) {
        throw new SkiffError(`pod create: runtime: ${(err as Error).message}`, 'EINVAL');
      }
    }
    if (config.network !== 'host' && config.network !== 'none') {
      await this.pc.ctx.network().networks.get(networkName(config.network)).catch((err: Error) => {
        throw new SkiffError(`pod create: network: ${err.message}`, 'EINVAL');
      });
    }
    const undo = new UndoStack();
    try {
      const name = await this.claimName(id, req.name);
      undo.push(`name ${name}`, () => this.pc.records.releaseName(name, id));
      await mkdir(this.pc.paths.pods, { recursive: true, mode: 0o711 });
      mkdirSync(this.pc.paths.pod(id), { mode: 0o711 });
      undo.push('pod directory', () => rmSync(this.pc.paths.pod(id), { recursive: true, force: true }));
      const rec = await this.pc.records.lockedDirectory(id, async () => {
        const made: PodRecord = { id, name, created: new Date().toISOString(), config, containers: [], status: 'created' };
        await writePodFiles(this.pc, made);
        await this.pc.records.write(made);
        return made;
      });
      undo.commit();
      return podView(rec);
    } catch (err) {
      await undo.rollback();
      throw err;
    }
  }

  private async claimName(id: string, wanted: string | undefined): Promise<string> {
    if (wanted !== undefined) {
      const name = checkName(wanted, 'pod name');
      if (!(await this.pc.records.reserveName(name, id))) throw new SkiffError(`pod name "${name}" is in use by pod ${await this.pc.records.idOfName(name) ?? '(being created)'}`, 'EEXIST');
      return name;
    }
    for (let retry = 0; retry < 20; retry++) {
      const name = generatedName(retry);
      if (await this.pc.records.reserveName(name, id)) return name;
    }
    throw new SkiffError('could not find a free pod name: give one', 'EEXIST');
  }

  /** The sandbox only (CRI RunPodSandbox): running once this returns. A pod whose pause died is stopped first. */
  async startSandbox(ref: string): Promise<PodView> {
    const id = await this.resolve(ref);
    const rec = await this.pc.records.locked(id, async (r) => {
      if (r.status === 'removing') throw new SkiffError(`pod ${r.name} is being removed`, 'EINVAL');
      if (r.status === 'running' && (await pauseAlive(r))) return r;
      if (r.status === 'running') await this.stopContainers(r, 0);
      if (await sandboxLeftovers(this.pc, r)) await teardownSandbox(this.pc, r);
      if (r.attaching) {
        delete r.attaching;
        await this.pc.records.write(r);
      }
      r.sandbox = await startSandbox(this.pc, r);
      delete r.attaching;
      r.status = 'running';
      r.started = new Date().toISOString();
      delete r.finished;
      try {
        await this.pc.records.write(r);
      } catch (err) {
        await teardownSandbox(this.pc, r).catch(() => {});
        throw err;
      }
      return r;
    });
    return podView(rec);
  }

  /** podman pod start: the sandbox, then its containers in creation order, init containers each run to completion. */
  async start(ref: string): Promise<PodView> {
    const view = await this.startSandbox(ref);
    const inits = new Set<string>();
    for (const cid of view.containers) {
      const c = await this.engine.inspect(cid).catch(() => undefined);
      if (!c) continue;
      if (c.record.config.labels[INIT_CONTAINER_LABEL] !== undefined) inits.add(cid);
    }
    for (const cid of view.containers) {
      if (inits.has(cid)) {
        await this.engine.start(cid);
        const code = await this.engine.wait(cid);
        if (code !== 0) throw new SkiffError(`pod ${view.name}: init container ${cid.slice(0, 12)} exited with ${code}: the pod's other containers were not started`, 'EINVAL');
        continue;
      }
      const c = await this.engine.inspect(cid).catch(() => undefined);
      if (c && c.status !== 'running') await this.engine.start(cid);
    }
    return this.inspect(view.id);
  }

  /**
   * Containers in reverse order, then the sandbox: CNI DEL, the pause ends, pins, /dev/shm, cgroups. With no grace
   * time (a kill) CNI DEL runs beside the containers' stop.
   */
  async stop(ref: string, timeoutSec?: number): Promise<void> {
    const id = await this.resolve(ref);
    await this.pc.records.locked(id, async (r) => {
      if (timeoutSec === 0 && r.status === 'running') {
        // A kill ends the containers at once: their network goes meanwhile rather than after them, and the rest
        // of the sandbox as soon as they are gone, while CNI DEL may still run. networkDown is false when that
        // DEL failed: the teardown then tries it once more.
        const networkDown = detachSandboxNetwork(this.pc, r).then(() => true, () => false);
        try {
          await this.stopContainers(r, 0);
        } catch (err) {
          await networkDown;
          throw err;
        }
        await this.stopSandboxLocked(r, networkDown);
      } else {
        await this.stopContainers(r, timeoutSec);
        await this.stopSandboxLocked(r);
      }
    });
  }

  private async stopContainers(r: PodRecord, timeoutSec?: number): Promise<void> {
    for (const cid of [...r.containers].reverse()) {
      await this.engine.stop(cid, timeoutSec).catch((err: SkiffError) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  /** `networkDown`: the CNI DEL already under way (Pods.stop without grace time), as teardownSandbox takes it. */
  private async stopSandboxLocked(r: PodRecord, networkDown?: Promise<boolean>): Promise<void> {
    if (r.status !== 'running' && !(await sandboxLeftovers(this.pc, r))) return;
    try {
      await teardownSandbox(this.pc, r, networkDown);
    } finally {
      if (r.status === 'running') {
        r.status = 'exited';
        r.finished = new Date().toISOString();
      }
      delete r.sandbox;
      delete r.attaching;
      await this.pc.records.write(r);
    }
  }

  /** podman pod kill: the signal (default SIGKILL) to each running container of the pod. */
  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const view = await this.inspect(ref);
    let sent = 0;
    for (const cid of view.containers) {
      try {
        await this.engine.kill(cid, signal);
        sent++;
      } catch (err) {
        if (!['ENOENT', 'EINVAL'].includes((err as SkiffError).code)) throw err;
      }
    }
    if (!sent) throw new SkiffError(`pod ${view.name} has no running container to signal`, 'EINVAL');
  }

  /** Containers, sandbox (pins, cgroup, /dev/shm), hosts files and the record; a running pod only with force. */
  async remove(ref: string, o: { force?: boolean } = {}): Promise<void> {
    const id = await this.resolve(ref);
    await this.pc.records.locked(id, async (r) => {
      const view = await podView(r);
      const running: string[] = [];
      for (const cid of r.containers) {
        const c = await this.engine.inspect(cid).catch(() => undefined);
        if (c?.status === 'running') running.push(c.record.name);
      }
      if (!o.force && (view.status === 'running' || running.length)) {
        throw new SkiffError(`pod ${r.name} is running${running.length ? ` (containers ${running.join(', ')})` : ''}: stop it first or force remove (-f)`, 'EBUSY');
      }
      await this.stopContainers(r, 0);
      for (const cid of [...r.containers].reverse()) {
        await this.engine.remove(cid, { force: true }).catch((err: SkiffError) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
      await teardownSandbox(this.pc, r);
      r.status = 'removing';
      delete r.sandbox;
      delete r.attaching;
      await this.pc.records.write(r);
      await this.pc.records.releaseName(r.name, id);
      rmSync(this.pc.paths.pod(id), { recursive: true, force: true });
    });
  }

  async inspect(ref: string): Promise<PodView> {
    return podView(await this.current(await this.resolve(ref)));
  }

  /** Every pod, newest first; directories a killed create left are swept. */
  async list(): Promise<PodView[]> {
    const out: PodView[] = [];
    const withoutRecord: string[] = [];
    // The containers once for all pods: a listing per pod made ListPodSandbox quadratic (206 ms at 100 pods).
    const containers = new Set(this.pc.ctx.records.directories());
    // One pass over the directories: a record that is not there shows in its read, not in a stat of its own.
    const dirs = await this.pc.records.directories();
    this.pc.records.keepSnapshotsOf(new Set(dirs));
    for (const id of dirs) {
      try {
        out.push(await podView(await this.current(id, containers)));
      } catch (err) {
        if ((err as SkiffError).code !== 'ENOENT') throw err;
        if (!existsSync(this.pc.paths.record(id))) withoutRecord.push(id);
      }
    }
    await this.sweep(withoutRecord);
    return out.sort((a, b) => byCodeUnits(b.created, a.created));
  }

  /** The record, with the containers that were removed on their own (docker rm of a pod's container) left out. */
  private async current(id: string, containers?: Set<string>): Promise<Readonly<PodRecord>> {
    const rec = this.pc.records.snapshot(id);
    // A container directory without its record yet is one being created: still the pod's.
    const known = containers ?? new Set(this.pc.ctx.records.directories());
    if (rec.containers.every((c) => known.has(c))) return rec;
    try {
      return await this.pc.records.locked(id, async (r) => {
        const live = new Set(await this.pc.ctx.records.ids());
        r.containers = r.containers.filter((c) => live.has(c));
        await this.pc.records.write(r);
        return r;
      }, NO_WAIT);
    } catch (err) {
      if ((err as SkiffError).code === 'ETIMEDOUT') return rec;
      throw err;
    }
  }

  /** Pod directories without a record: a create killed half way (unless its creator still holds the lock). */
  private async sweep(withoutRecord: string[]): Promise<void> {
    for (const id of withoutRecord) {
      await this.pc.records.lockedDirectory(id, async () => {
        rmSync(this.pc.paths.pod(id), { recursive: true, force: true });
      }, NO_WAIT).catch((err: SkiffError) => {
        if (err.code !== 'ETIMEDOUT' && err.code !== 'ENOENT') this.pc.ctx.warn(`leftover pod directory ${id.slice(0, 12)}: ${err.message}`);
      });
    }
  }

  /** Creates a container in the pod: config.pod and config.shared from the sandbox; ports stay the pod's. */
  async createContainer(podRef: string, req: CreateRequest): Promise<ContainerRecord> {
    const id = await this.resolve(podRef);
    const pod = await this.pc.records.read(id);
    const config = podContainerConfig(this.pc, pod, req.config);
    const rec = await this.engine.create({ ...req, config });
    try {
      await this.pc.records.locked(id, async (r) => {
        if (r.status === 'removing') throw new SkiffError(`pod ${r.name} is being removed`, 'EINVAL');
        r.containers.push(rec.id);
        await this.pc.records.write(r);
      });
    } catch (err) {
      await this.engine.remove(rec.id, { force: true }).catch(() => {});
      throw err;
    }
    return rec;
  }
}
