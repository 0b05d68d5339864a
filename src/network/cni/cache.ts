// Each ADD's result and arguments, on disk like libcni's cache (kind "cniCacheV1", one file per network, container
// and interface), so a DEL, CHECK or GC after a restart of skiff has the prevResult and the same arguments.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import type { NetworkConfigList } from './config.js';
import type { RuntimeConfig } from './client.js';
import type { CniResult } from './result.js';

export interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  networkName: string;
  ifName: string;
  netns: string;
  /** The network configuration the ADD ran with (DEL uses it when the network's file is gone). */
  config: Omit<NetworkConfigList, 'file'>;
  cniArgs?: [string, string][];
  /** The runtimeConfig values the ADD was given (libcni's name for them). */
  capabilityArgs?: RuntimeConfig;
  result: CniResult;
}

export class ResultCache {
  constructor(readonly dir: string) {}

  private path(network: string, containerId: string, ifName: string): string {
    return join(this.dir, 'results', `${network}-${containerId}-${ifName}`);
  }

  async put(a: CachedAttachment): Promise<void> {
    await mkdir(join(this.dir, 'results'), { recursive: true });
    await writeFileAtomic(this.path(a.networkName, a.containerId, a.ifName), JSON.stringify(a), 0o600);
  }

  async get(network: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined> {
    return this.read(this.path(network, containerId, ifName));
  }

  private async read(path: string): Promise<CachedAttachment | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as CachedAttachment;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Every cached attachment, or those of one network (names may contain '-', so the files are read, not split). */
  async list(network?: string): Promise<CachedAttachment[]> {
    let names: string[];
    try {
      names = (await readdir(join(this.dir, 'results'))).filter((n) => !n.startsWith('.'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const all = await Promise.all(names.map((n) => this.read(join(this.dir, 'results', n))));
    return all.filter((a): a is CachedAttachment => !!a && (network === undefined || a.networkName === network));
  }

  async remove(network: string, containerId: string, ifName: string): Promise<void> {
    await rm(this.path(network, containerId, ifName), { force: true });
  }
}
