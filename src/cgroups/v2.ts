// cgroup v2: one unified hierarchy (Documentation/admin-guide/cgroup-v2.rst). runc's fs2 driver is the reference
// for converting v1-style resources (shares -> weight, blkio weight -> io.weight, swap semantics).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import type { LinuxResources } from '../oci/runtime-spec.js';
import { mkdirTracked, readKeyed, readText, readNumber, readValue, pollOomKills, removeWithEmptyParents, rmdirRetry, signalEach, writeValue } from './fs.js';
import type { BlkioEntry, CgroupManager, CgroupStats } from './types.js';

/** cpu.shares (2..262144) -> cpu.weight (1..10000), as runc converts. */
export function sharesToWeight(shares: number): number {
  return shares === 0 ? 0 : 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) -> io.weight (1..10000). */
export function blkioToIoWeight(weight: number): number {
  return weight === 0 ? 0 : 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** runtime-spec swap is memory+swap (v1 memsw); memory.swap.max is swap alone. */
export function swapMax(limit: number | undefined, swap: number): string {
  if (swap === -1) return 'max';
  if (limit === undefined || limit === -1) {
    throw new SkiffError('linux.resources.memory.swap: needs memory.limit on cgroup v2 (swap is memory+swap)', 'EINVAL');
  }
  if (swap < limit) throw new SkiffError(`linux.resources.memory.swap: ${swap} is below memory.limit ${limit}`, 'EINVAL');
  return String(swap - limit);
}

const max = (n: number) => (n < 0 ? 'max' : String(n));

export class CgroupV2 implements CgroupManager {
  readonly version = 2;
  readonly dir: string;

  constructor(readonly path: string, readonly root = '/sys/fs/cgroup') {
    this.dir = join(root, path);
  }

  async create(resources?: LinuxResources): Promise<void> {
    const made: string[] = [];
    try {
      await mkdirTracked(this.dir, made);
      await this.enableControllers();
      if (resources) await this.apply(resources);
    } catch (err) {
      for (const d of made.reverse()) await rmdirRetry(d).catch(() => {});
      throw err;
    }
  }

  /** A controller is usable in a cgroup only if every ancestor enables it in cgroup.subtree_control. */
  private async enableControllers(): Promise<void> {
    const parts = this.path.split('/').filter(Boolean);
    let d = this.root;
    for (const part of parts) {
      const available = (await readValue(join(d, 'cgroup.controllers'))).split(' ').filter(Boolean);
      const wanted = available.filter((c) => ['cpu', 'cpuset', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc'].includes(c));
      if (wanted.length) await writeValue(join(d, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '), 'cgroup.subtree_control');
      d = join(d, part);
    }
  }

  async addProcess(pid: number): Promise<void> {
    await writeValue(join(this.dir, 'cgroup.procs'), String(pid), 'cgroup.procs');
  }

  update(resources: LinuxResources): Promise<void> {
    return this.apply(resources);
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private async apply(r: LinuxResources): Promise<void> {
    const f = 'linux.resources';
    if (r.devices?.length) {
      // create attaches them as a BPF program (bpf-devices in the launch plan); replacing it later is not done.
      throw new SkiffError(`${f}.devices: changing the device rules of a container on cgroup v2 is not supported`, 'ENOTSUP');
    }
    if (r.memory) {
      const m = r.memory;
      if (m.kernel !== undefined || m.kernelTCP !== undefined) throw new SkiffError(`${f}.memory.kernel: kernel memory limits do not exist on cgroup v2`, 'ENOTSUP');
      if (m.swappiness !== undefined) throw new SkiffError(`${f}.memory.swappiness: per-cgroup swappiness does not exist on cgroup v2`, 'ENOTSUP');
      if (m.disableOOMKiller) throw new SkiffError(`${f}.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer`, 'ENOTSUP');
      if (m.checkBeforeUpdate && m.limit !== undefined && m.limit >= 0) {
        const usage = await readNumber(this.file('memory.current'));
        if (usage > m.limit) throw new SkiffError(`${f}.memory.limit: ${m.limit} is below the current usage ${usage}`, 'EBUSY');
      }
      if (m.swap !== undefined) await writeValue(this.file('memory.swap.max'), swapMax(m.limit, m.swap), `${f}.memory.swap`);
      if (m.limit !== undefined) await writeValue(this.file('memory.max'), max(m.limit), `${f}.memory.limit`);
      if (m.reservation !== undefined) await writeValue(this.file('memory.low'), max(m.reservation), `${f}.memory.reservation`);
    }
    if (r.cpu) {
      const c = r.cpu;
      if (c.realtimeRuntime !== undefined || c.realtimePeriod !== undefined) {
        throw new SkiffError(`${f}.cpu.realtimeRuntime: realtime CPU limits do not exist on cgroup v2`, 'ENOTSUP');
      }
      if (c.shares !== undefined) await writeValue(this.file('cpu.weight'), String(sharesToWeight(c.shares)), `${f}.cpu.shares`);
      if (c.quota !== undefined || c.period !== undefined) {
        const [curQuota, curPeriod] = (await readValue(this.file('cpu.max'))).split(' ');
        const quota = c.quota === undefined ? curQuota : max(c.quota);
        await writeValue(this.file('cpu.max'), `${quota} ${c.period ?? curPeriod}`, `${f}.cpu.quota`);
      }
      if (c.burst !== undefined) await writeValue(this.file('cpu.max.burst'), String(c.burst), `${f}.cpu.burst`);
      if (c.idle !== undefined) await writeValue(this.file('cpu.idle'), String(c.idle), `${f}.cpu.idle`);
      if (c.cpus) await writeValue(this.file('cpuset.cpus'), c.cpus, `${f}.cpu.cpus`);
      if (c.mems) await writeValue(this.file('cpuset.mems'), c.mems, `${f}.cpu.mems`);
    }
    if (r.pids) await writeValue(this.file('pids.max'), r.pids.limit > 0 ? String(r.pids.limit) : 'max', `${f}.pids.limit`);
    if (r.blockIO) {
      const b = r.blockIO;
      if (b.weight !== undefined) await writeValue(this.file('io.weight'), `default ${blkioToIoWeight(b.weight)}`, `${f}.blockIO.weight`);
      for (const [i, w] of (b.weightDevice ?? []).entries()) {
        if (w.weight !== undefined) await writeValue(this.file('io.weight'), `${w.major}:${w.minor} ${blkioToIoWeight(w.weight)}`, `${f}.blockIO.weightDevice[${i}]`);
      }
      const keys = [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']] as const;
      for (const [key, name] of keys) {
        for (const [i, t] of (b[key] ?? []).entries()) {
          await writeValue(this.file('io.max'), `${t.major}:${t.minor} ${name}=${t.rate === 0 ? 'max' : t.rate}`, `${f}.blockIO.${key}[${i}]`);
        }
      }
    }
    for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
      await writeValue(this.file(`hugetlb.${h.pageSize}.max`), String(h.limit), `${f}.hugepageLimits[${i}]`);
    }
    if (r.network) throw new SkiffError(`${f}.network: net_cls/net_prio do not exist on cgroup v2`, 'ENOTSUP');
    for (const [dev, l] of Object.entries(r.rdma ?? {})) {
      const parts = [l.hcaHandles !== undefined ? `hca_handle=${l.hcaHandles}` : '', l.hcaObjects !== undefined ? `hca_object=${l.hcaObjects}` : ''].filter(Boolean);
      await writeValue(this.file('rdma.max'), `${dev} ${parts.join(' ')}`, `${f}.rdma["${dev}"]`);
    }
    for (const [k, v] of Object.entries(r.unified ?? {})) {
      if (k.includes('/') || k.startsWith('.')) throw new SkiffError(`${f}.unified["${k}"]: not a cgroup file name`, 'EINVAL');
      await writeValue(this.file(k), v, `${f}.unified["${k}"]`);
    }
  }

  async freeze(): Promise<void> {
    await writeValue(this.file('cgroup.freeze'), '1', 'cgroup.freeze');
    for (let i = 0; i < 1000 && (await readKeyed(this.file('cgroup.events'))).frozen !== 1; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  async thaw(): Promise<void> {
    await writeValue(this.file('cgroup.freeze'), '0', 'cgroup.freeze');
  }

  async freezerState(): Promise<'frozen' | 'thawed'> {
    return (await readKeyed(this.file('cgroup.events'))).frozen === 1 ? 'frozen' : 'thawed';
  }

  async pids(): Promise<number[]> {
    try {
      return (await readText(this.file('cgroup.procs'))).split('\n').filter(Boolean).map(Number);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async oomKillCount(): Promise<number> {
    return (await readKeyed(this.file('memory.events'))).oom_kill ?? 0;
  }

  // memory.events changes raise a file-modified event, but fs.watch on cgroupfs is unreliable; poll the counter.
  onOom(listener: () => void): () => void {
    return pollOomKills(() => this.oomKillCount(), listener);
  }

  async killAll(signal: number): Promise<void> {
    // cgroup.kill (Linux 5.14) kills every process at once, with no race against forks.
    if (signal === 9 && existsSync(this.file('cgroup.kill'))) {
      await writeValue(this.file('cgroup.kill'), '1', 'cgroup.kill');
      return;
    }
    await this.freeze();
    try {
      signalEach(await this.pids(), signal);
    } finally {
      await this.thaw();
    }
  }

  async stats(): Promise<CgroupStats> {
    const cpu = await readKeyed(this.file('cpu.stat'));
    const raw = await readKeyed(this.file('memory.stat'));
    const events = await readKeyed(this.file('memory.events'));
    return {
      cpu: {
        usage: { total: (cpu.usage_usec ?? 0) * 1000, kernel: (cpu.system_usec ?? 0) * 1000, user: (cpu.user_usec ?? 0) * 1000 },
        throttling: { periods: cpu.nr_periods ?? 0, throttledPeriods: cpu.nr_throttled ?? 0, throttledTime: (cpu.throttled_usec ?? 0) * 1000 },
      },
      memory: {
        cache: raw.file ?? 0,
        usage: { limit: await readNumber(this.file('memory.max')), usage: await readNumber(this.file('memory.current')),
          max: await readNumber(this.file('memory.peak')), failcnt: events.max ?? 0 },
        swap: { limit: await readNumber(this.file('memory.swap.max')), usage: await readNumber(this.file('memory.swap.current')), max: 0, failcnt: 0 },
        raw,
      },
      pids: { current: await readNumber(this.file('pids.current')), limit: Math.max(0, await readNumber(this.file('pids.max'))) },
      blkio: await this.ioStats(),
    };
  }

  private async ioStats(): Promise<CgroupStats['blkio']> {
    const bytes: BlkioEntry[] = [], ios: BlkioEntry[] = [];
    for (const line of (await readText(this.file('io.stat')).catch(() => '')).split('\n')) {
      const [dev, ...kv] = line.trim().split(/\s+/);
      if (!dev?.includes(':')) continue;
      const [major, minor] = dev.split(':').map(Number);
      const v = Object.fromEntries(kv.map((p) => p.split('=')).map(([k, n]) => [k, Number(n)]));
      bytes.push({ major, minor, op: 'Read', value: v.rbytes ?? 0 }, { major, minor, op: 'Write', value: v.wbytes ?? 0 });
      ios.push({ major, minor, op: 'Read', value: v.rios ?? 0 }, { major, minor, op: 'Write', value: v.wios ?? 0 });
    }
    return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
  }

  async destroy(): Promise<void> {
    await removeWithEmptyParents(this.dir, this.root);
  }
}
