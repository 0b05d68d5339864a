// GetContainerEvents: every subscriber gets a ContainerEventResponse for each container created, started, stopped
// or deleted from the moment it subscribed. skiffd's own calls publish created/started/deleted and the stops they
// make; a container that ends on its own is seen through the exit file its monitor writes (an inotify watch on the
// exits directory), so the kubelet learns of it without polling.
import { watch, type FSWatcher } from 'node:fs';
import { mkdirSync } from 'node:fs';
import type { ContainerEventResponse } from './proto/generated/runtime/v1/ContainerEventResponse.js';
import type { ContainerEventType } from './proto/generated/runtime/v1/ContainerEventType.js';

export type Listener = (e: ContainerEventResponse) => void;

/** Builds the event for a container (its status and its sandbox's), or undefined when it is not a CRI container. */
export type EventBuilder = (id: string, type: ContainerEventType) => Promise<ContainerEventResponse | undefined>;

export class ContainerEvents {
  private readonly listeners = new Set<Listener>();
  private watcher?: FSWatcher;
  private build?: EventBuilder;

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Starts watching `exitsDir` for exits; `build` makes each event. */
  start(exitsDir: string, build: EventBuilder, warn: (m: string) => void): void {
    this.build = build;
    mkdirSync(exitsDir, { recursive: true });
    this.watcher = watch(exitsDir, (kind, file) => {
      // The monitor writes the exit file atomically: a rename into the directory.
      if (kind === 'rename' && file && /^[a-f0-9]{64}$/.test(file) && this.listeners.size) this.publish(file, 'CONTAINER_STOPPED_EVENT');
    });
    this.watcher.on('error', (err) => warn(`watching ${exitsDir} for exits: ${err.message}`));
  }

  stop(): void {
    this.watcher?.close();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Sends the event to every subscriber (nothing is built while nobody listens). */
  publish(id: string, type: ContainerEventType, event?: ContainerEventResponse): void {
    if (!this.listeners.size) return;
    const made = event ? Promise.resolve(event) : this.build?.(id, type) ?? Promise.resolve(undefined);
    void made.then((e) => {
      if (e) for (const l of this.listeners) l(e);
    }, () => {});
  }
}
