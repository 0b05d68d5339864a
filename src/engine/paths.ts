// Where the engine keeps what: persistent records under the root (default /var/lib/skiff), what a reboot may take
// under the state directory (default /run/skiff), as ../shared/ARCHITECTURE.md lays them out.
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';

/** sockaddr_un's sun_path holds 108 bytes with the terminating NUL (unix(7)). */
const SUN_PATH_MAX = 107;

export class EnginePaths {
  constructor(readonly root: string, readonly state: string) {}

  get containers(): string {
    return join(this.root, 'containers');
  }

  /** The container's directory: its record, rootfs (upper, work), log, hosts files; also its OCI bundle. */
  container(id: string): string {
    return join(this.containers, id);
  }

  record(id: string): string {
    return join(this.container(id), 'container.json');
  }

  /** The bundle's config.json: the runtime spec of the last start. */
  spec(id: string): string {
    return join(this.container(id), 'config.json');
  }

  /** Inside the container's directory: a command waiting for it finds "does not exist" once it is removed. */
  lock(id: string): string {
    return join(this.container(id), 'lock');
  }

  log(id: string): string {
    return join(this.container(id), 'container.log');
  }

  /** One file per name, holding the ID: created O_EXCL, so two containers never get one name. */
  get names(): string {
    return join(this.root, 'names');
  }

  name(name: string): string {
    return join(this.names, name);
  }

  get volumes(): string {
    return join(this.root, 'volumes');
  }

  /** Runtime handlers' directories, one each. */
  get handlers(): string {
    return join(this.state, 'runtimes');
  }

  /** A runtime handler's own directory (its binary's --root and what skiff keeps beside it); a binary's path is encoded. */
  handlerRoot(name: string): string {
    return join(this.handlers, encodeURIComponent(name));
  }

  /** The OCI runtime's state (runc's /run/runc). */
  get runtimeRoot(): string {
    return join(this.state, 'runtime');
  }

  /** The monitor writes the exit status here; under the state directory, like podman's exits directory. */
  get exits(): string {
    return join(this.state, 'exits');
  }

  exitFile(id: string): string {
    return join(this.exits, id);
  }

  /** The process that takes down the container's run itself at its exit (waiters.ts), beside the record. */
  exitOwner(id: string): string {
    return join(this.container(id), 'exit-owner');
  }

  /**
   * The monitor's attach socket, named by the first 16 hex digits of the ID (64 random bits: unique among a
   * store's containers) so that a state directory of ordinary depth still fits a socket path's 107 bytes.
   */
  attachSocket(id: string): string {
    const path = join(this.state, 'attach', id.slice(0, 16));
    if (Buffer.byteLength(path) > SUN_PATH_MAX) {
      throw new SkiffError(`the attach socket path ${path} is longer than a unix socket path may be (${SUN_PATH_MAX} bytes): use a shorter --state directory`, 'ENAMETOOLONG');
    }
    return path;
  }

  /** Where a long-lived caller's helper zygote connects its helpers back (src/native/zygote.ts). */
  get helperZygoteSocket(): string {
    return join(this.state, 'helpers.sock');
  }

  /** Network namespaces pinned for containers (and pods). */
  get netns(): string {
    return join(this.state, 'netns');
  }
}
