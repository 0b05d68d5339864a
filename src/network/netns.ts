// Network namespaces that outlive any process: the namespace's nsfs file bind-mounted onto a file under skiff's
// state (ip-netns(8) does the same under /run/netns). Node cannot unshare (it is multithreaded), so the native
// helper runs a three-step plan; removing is an unmount (and the namespace goes when nothing else holds it).
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import { SkiffError } from '../common/errors.js';
import { launch } from '../runtime/native/launcher.js';
import { step } from '../runtime/plan/step.js';

const CLONE_NEWNET = 0x40000000;
const MS_BIND = 0x1000;
const MNT_DETACH = 2;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class NetnsStore {
  constructor(readonly dir: string) {}

  path(name: string): string {
    if (!NAME.test(name)) throw new SkiffError(`invalid network namespace name "${name}"`, 'EINVAL');
    return join(this.dir, name);
  }

  async create(name: string): Promise<string> {
    const path = this.path(name);
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    try {
      await (await open(path, 'wx', 0o444)).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SkiffError(`network namespace "${name}" already exists`, 'EEXIST');
      throw err;
    }
    try {
      await launch({
        plan: [
          step('unshare', [CLONE_NEWNET], undefined, 'create a network namespace'),
          step('mount', ['/proc/self/ns/net', path, '', MS_BIND, ''], undefined, `pin the network namespace on ${path}`),
          step('ready'),
        ],
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    return path;
  }

  async remove(name: string): Promise<void> {
    const path = this.path(name);
    if (!existsSync(path)) throw new SkiffError(`network namespace "${name}" does not exist`, 'ENOENT');
    await launch({ plan: [step('umount', [path, MNT_DETACH], undefined, `unpin ${path}`), step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });
    await rm(path, { force: true });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).sort();
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
