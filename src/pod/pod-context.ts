// What every pod operation works with: the engine (its containers, CNI networks and runtime), the pods' records,
// and the stores of the pods' pinned namespaces. One per Pods.
import type { Engine } from '../engine/engine.js';
import type { EngineContext } from '../engine/context.js';
import type { NetworkServices } from '../engine/container-network.js';
import { NetnsStore } from '../network/netns.js';
import { PodPaths, PodRecords } from './pod-records.js';

export class PodContext {
  readonly ctx: EngineContext;
  readonly paths: PodPaths;
  readonly records: PodRecords;
  /** ipc, uts and pid namespaces, pinned as ID-TYPE. */
  readonly nsPins: NetnsStore;
  private net?: NetworkServices;

  constructor(readonly engine: Engine) {
    this.ctx = engine.ctx;
    this.paths = new PodPaths(this.ctx.paths.root, this.ctx.paths.state);
    this.records = new PodRecords(this.paths);
    this.nsPins = new NetnsStore(this.paths.nsPins);
  }

  /** The engine's CNI networks with the pods' own directory of pinned network namespaces. */
  network(): NetworkServices {
    this.net ??= { networks: this.ctx.network().networks, netns: new NetnsStore(this.paths.netns) };
    return this.net;
  }
}
