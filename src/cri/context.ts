// What every CRI handler is given: the daemon's configuration, its log, and the services it translates onto.
import type { Engine } from '../engine/engine.js';
import type { SkiffdConfig } from './config.js';
import type { ContainerEvents } from './container-events.js';
import type { Logger } from './log.js';
import type { PodCidrs } from './pod-cidr.js';
import type { Sandboxes } from './sandboxes.js';
import type { StreamingServer } from './streaming/server.js';

export interface CriContext {
  config: SkiffdConfig;
  log: Logger;
  podCidrs: PodCidrs;
  /** Exec, attach and port-forward sessions; absent until a streaming backend (the engine) is there. */
  streaming?: StreamingServer;
  /** Containers, images, volumes: the engine the skiff CLI uses too, on the same stores. */
  engine: Engine;
  /** Pods: the pod layer's (src/pod/), or a test's stand-in. */
  sandboxes: Sandboxes;
  /** GetContainerEvents' subscribers. */
  events: ContainerEvents;
}
