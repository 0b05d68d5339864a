// Network namespaces that outlive any process: the namespace's nsfs file bind-mounted onto a file in a directory
// under skiff's state (ip-netns(8) does the same under /run/netns). This is the one module that makes and removes
// them. Node cannot unshare (it is multithreaded), so the native helper runs the steps.
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { launch } from '../native/launcher.js';
import { step, type Step } from '../native/step.js';
import { unmountStacked, type UnmountTarget } from '../native/unmount.js';
import { CLONE, MS } from '../common/linux-flags.js';
import { isShared, mountsAt } from '../common/mountinfo.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const run = (plan: Step[]) => launch({ plan: [...plan, step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });

export class NetnsStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  path(name: string): string {
    if (!NAME.test(name)) throw new SkiffError(`network namespace name "${name}": use letters, digits, _ . - (not starting with . or -)`, 'EINVAL');
    return join(this.dir, name);
  }

  /**
   * As ip-netns(8) does with /run/netns, the directory becomes a shared mount (bound onto itself first if it is
   * not a mount point), so a pin copied into another mount namespace (a container's, made while it existed) is
   * unmounted there too when we unmount it here (mount_namespaces(7), shared subtrees); otherwise the copy would
   * keep the namespace alive.
   */
  sharedDirSteps(): Step[] {
    const top = mountsAt(this.dir).at(-1);
    if (top && isShared(top)) return [];
    return [
      ...(top ? [] : [step('mount', [this.dir, this.dir, '', MS.BIND | MS.REC, ''], undefined, `bind ${this.dir} onto itself`)]),
      step('mount', ['', this.dir, '', MS.SHARED | MS.REC, ''], undefined, `make ${this.dir} a shared mount`),
    ];
  }

  /** Creates the namespace NAME, with lo up, and returns the path of its pin. */
  async create(name: string): Promise<string> {
    const path = this.path(name);
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    try {
      await (await open(path, 'wx', 0o444)).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SkiffError(`network namespace "${name}" already exists (${path})`, 'EEXIST');
      throw err;
    }
    try {
      await run([
        ...this.sharedDirSteps(),
        step('unshare', [CLONE.NEWNET], undefined, 'create a network namespace'),
        // lo comes up with the namespace, as every runtime's container network has it; the CNI loopback plugin
        // would cost a process at every ADD and DEL.
        step('loopback-up', [], undefined, 'bring lo up'),
        step('mount', ['/proc/self/ns/net', path, '', MS.BIND, ''], undefined, `pin the network namespace on ${path}`),
      ]);
    } catch (err) {
      await rm(path, { force: true });
      await this.dropDirMountIfEmpty();
      throw err;
    }
    return path;
  }

  /**
   * Makes the empty file NAME's pin is mounted on, for a launch of the caller's own that runs sharedDirSteps() and
   * then pinStep() (a pod's pause pins its own namespaces); a launch that fails is undone with remove(NAME).
   */
  async reserve(name: string): Promise<string> {
    const path = this.path(name);
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    try {
      await (await open(path, 'wx', 0o444)).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SkiffError(`namespace pin "${name}" already exists (${path})`, 'EEXIST');
      throw err;
    }
    return path;
  }

  /** The bind mount of `source` (a /proc/.../ns/TYPE file as the launched process sees it) onto a reserved pin. */
  pinStep(source: string, path: string, field?: string): Step {
    return step('mount', [source, path, '', MS.BIND, ''], field, `pin ${source} on ${path}`);
  }

  /**
   * Pins a namespace that a process already has (`source` is its /proc/PID/ns/TYPE file) as NAME: a pod's network
   * namespace, made by its pause process. Same shared directory rules as create.
   */
  async pin(name: string, source: string): Promise<string> {
    const path = await this.reserve(name);
    try {
      await run([...this.sharedDirSteps(), this.pinStep(source, path)]);
    } catch (err) {
      await rm(path, { force: true });
      await this.dropDirMountIfEmpty();
      throw err;
    }
    return path;
  }

  /** Unpins NAME (the namespace goes when no process is left in it) and removes its file. */
  async remove(name: string): Promise<void> {
    const path = this.path(name);
    if (!existsSync(path)) throw new SkiffError(`network namespace "${name}" does not exist in ${this.dir}`, 'ENOENT');
    // A file without a mount is what a crash between creating the file and pinning leaves: only unlink it.
    await unmountStacked(path, 'unpin');
    await this.forget([name]);
  }

  /** What unmountEach needs to unpin NAME in one launch with other unmounts; forget(NAME) after it. */
  unpinTarget(name: string): UnmountTarget {
    return { path: this.path(name), what: 'unpin' };
  }

  /** Removes the files of pins already unmounted, and the directory's own mount with the last of them. */
  async forget(names: string[]): Promise<void> {
    for (const name of names) await rm(this.path(name), { force: true });
    await this.dropDirMountIfEmpty();
  }

  /**
   * The directory's bind mount onto itself goes with the last namespace, so an idle skiff leaves no mount. Only a
   * bind of a subdirectory (root not "/") is taken down: a filesystem mounted there by someone else stays.
   */
  private async dropDirMountIfEmpty(): Promise<void> {
    if ((await this.list()).length) return;
    const mounts = mountsAt(this.dir);
    const ours = mounts.filter((m) => m.root !== '/');
    if (!ours.length || ours.length !== mounts.length) return;
    await run(ours.map(() => step('umount', [this.dir, 0], undefined, `unmount ${this.dir}`))).catch((err: SkiffError) => {
      // Another skiff process pinned a namespace in the meantime: the directory is in use again.
      if (err.code !== 'EBUSY') throw err;
    });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => NAME.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** A netns given as a path, a name under /run/netns (ip netns), or a name of ours. */
  resolve(nameOrPath: string): string {
    if (isAbsolute(nameOrPath)) {
      if (!existsSync(nameOrPath)) throw new SkiffError(`network namespace ${nameOrPath} does not exist`, 'ENOENT');
      return nameOrPath;
    }
    for (const p of [join('/run/netns', nameOrPath), this.path(nameOrPath)]) if (existsSync(p)) return p;
    throw new SkiffError(`network namespace "${nameOrPath}" not found under /run/netns or ${this.dir}`, 'ENOENT');
  }
}
