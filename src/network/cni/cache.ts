// Each ADD's result and arguments, on disk like libcni's cache (cniCacheV1), so a DEL or CHECK after a restart of
// skiff has the prevResult and the same arguments.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import type { CniResult } from './result.js';

export interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  networkName: string;
  ifName: string;
  netns: string;
  config: unknown;
  cniArgs?: Record<string, string>;
  capabilityArgs?: Record<string, unknown>;
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
    try {
      return JSON.parse(await readFile(this.path(network, containerId, ifName), 'utf8')) as CachedAttachment;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async remove(network: string, containerId: string, ifName: string): Promise<void> {
    await rm(this.path(network, containerId, ifName), { force: true });
  }
}
