// What every CRI handler is given: the daemon's configuration, its log, and the services it translates onto.
import type { SkiffdConfig } from './config.js';
import type { Logger } from './log.js';
import type { PodCidrs } from './pod-cidr.js';
import type { StreamingServer } from './streaming/server.js';

export interface CriContext {
  config: SkiffdConfig;
  log: Logger;
  podCidrs: PodCidrs;
  /** Exec, attach and port-forward sessions; absent until a streaming backend (the engine) is there. */
  streaming?: StreamingServer;
}
