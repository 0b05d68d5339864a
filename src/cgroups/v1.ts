// cgroup v1: one directory per hierarchy (cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids, ...), each
// written by hand (Documentation/admin-guide/cgroup-v1/*). Limits follow runc's fs driver.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import type { LinuxResources } from '../oci/runtime-spec.js';
import { mkdirTracked, readKeyed, readText, readNumber, readValue, pollOomKills, removeWithEmptyParents, rmdirRetry, signalEach, writeValue } from './fs.js';
import type { BlkioEntry, CgroupManager, CgroupStats, MemoryEntry } from './types.js';

/** controller name -> mount point, from /proc/self/mountinfo (cgroup v1 mounts only; named ones skipped). */
export function v1Hierarchies(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , superOpts] = post.split(' ');
    if (fstype !== 'cgroup') continue;
    const mountPoint = pre.split(' ')[4];
    for (const opt of superOpts.split(',')) {
      if (['rw', 'ro'].includes(opt) || opt.startsWith('name=') || opt.includes('=')) continue;
      out.set(opt, mountPoint);
    }
  }
  return out;
}

const U64_MAX = 2n ** 64n - 1n;
const limitValue = (n: number) => (n < 0 ? '-1' : String(n));

export class CgroupV1 implements CgroupManager {
  readonly version = 1;
  private readonly dirs: Map<string, string>;

  constructor(readonly path: string, hierarchies = v1Hierarchies()) {
    this.dirs = new Map([...hierarchies].map(([ctl, mnt]) => [ctl, join(mnt, path)]));
  }

  private dir(controller: string): string {
    const d = this.dirs.get(controller);
    if (!d) throw new SkiffError(`the ${controller} cgroup controller is not mounted on this host`, 'ENOTSUP');
    return d;
  }

  private uniqueDirs(): string[] {
    return [...new Set(this.dirs.values())];
  }

  async create(resources?: LinuxResources): Promise<void> {
    const made: string[] = [];
    try {
      for (const d of this.uniqueDirs()) await mkdirTracked(d, made);
      // cpuset: a new cgroup starts with empty cpus and mems and accepts no task until they are set (cpusets(7)).
      for (const d of made.filter((m) => this.dirs.get('cpuset') && m.startsWith(this.mountOf('cpuset') + '/'))) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if ((await readValue(join(d, f))) === '') await writeValue(join(d, f), await readValue(join(d, '..', f)), 'linux.resources.cpu');
        }
      }
      if (resources) await this.apply(resources);
    } catch (err) {
      for (const d of made.reverse()) await rmdirRetry(d).catch(() => {});
      throw err;
    }
  }

  private mountOf(controller: string): string {
    return this.dir(controller).slice(0, -this.path.length);
  }

  async addProcess(pid: number): Promise<void> {
    for (const d of this.uniqueDirs()) await writeValue(join(d, 'cgroup.procs'), String(pid), 'cgroup.procs');
  }

  update(resources: LinuxResources): Promise<void> {
    return this.apply(resources);
  }

  private async apply(r: LinuxResources): Promise<void> {
    if (r.devices) {
      const d = this.dir('devices');
      for (const [i, rule] of r.devices.entries()) {
        const type = rule.type ?? 'a';
        const node = type === 'a' ? 'a' : `${type} ${rule.major == null || rule.major < 0 ? '*' : rule.major}:${rule.minor == null || rule.minor < 0 ? '*' : rule.minor} ${rule.access ?? 'rwm'}`;
        await writeValue(join(d, rule.allow ? 'devices.allow' : 'devices.deny'), node, `linux.resources.devices[${i}]`);
      }
    }
    if (r.memory) await this.applyMemory(r.memory);
    if (r.cpu) {
      const c = r.cpu, f = 'linux.resources.cpu';
      if (c.shares !== undefined) await writeValue(join(this.dir('cpu'), 'cpu.shares'), String(c.shares), `${f}.shares`);
      // The kernel checks quota against the current period: set the period first.
      if (c.period !== undefined) await writeValue(join(this.dir('cpu'), 'cpu.cfs_period_us'), String(c.period), `${f}.period`);
      if (c.quota !== undefined) await writeValue(join(this.dir('cpu'), 'cpu.cfs_quota_us'), String(c.quota), `${f}.quota`);
      if (c.burst !== undefined) await writeValue(join(this.dir('cpu'), 'cpu.cfs_burst_us'), String(c.burst), `${f}.burst`);
      if (c.realtimePeriod !== undefined) await writeValue(join(this.dir('cpu'), 'cpu.rt_period_us'), String(c.realtimePeriod), `${f}.realtimePeriod`);
      if (c.realtimeRuntime !== undefined) await writeValue(join(this.dir('cpu'), 'cpu.rt_runtime_us'), String(c.realtimeRuntime), `${f}.realtimeRuntime`);
      if (c.idle !== undefined) await writeValue(join(this.dir('cpu'), 'cpu.idle'), String(c.idle), `${f}.idle`);
      if (c.cpus) await writeValue(join(this.dir('cpuset'), 'cpuset.cpus'), c.cpus, `${f}.cpus`);
      if (c.mems) await writeValue(join(this.dir('cpuset'), 'cpuset.mems'), c.mems, `${f}.mems`);
    }
    if (r.pids) {
      await writeValue(join(this.dir('pids'), 'pids.max'), r.pids.limit > 0 ? String(r.pids.limit) : 'max', 'linux.resources.pids.limit');
    }
    if (r.blockIO) await this.applyBlkio(r.blockIO);
    if (r.hugepageLimits?.length) {
      for (const [i, h] of r.hugepageLimits.entries()) {
        await writeValue(join(this.dir('hugetlb'), `hugetlb.${h.pageSize}.limit_in_bytes`), String(h.limit), `linux.resources.hugepageLimits[${i}]`);
      }
    }
    if (r.network?.classID !== undefined) {
      await writeValue(join(this.dir('net_cls'), 'net_cls.classid'), String(r.network.classID), 'linux.resources.network.classID');
    }
    for (const [i, p] of (r.network?.priorities ?? []).entries()) {
      await writeValue(join(this.dir('net_prio'), 'net_prio.ifpriomap'), `${p.name} ${p.priority}`, `linux.resources.network.priorities[${i}]`);
    }
    for (const [dev, l] of Object.entries(r.rdma ?? {})) {
      const parts = [l.hcaHandles !== undefined ? `hca_handle=${l.hcaHandles}` : '', l.hcaObjects !== undefined ? `hca_object=${l.hcaObjects}` : ''].filter(Boolean);
      await writeValue(join(this.dir('rdma'), 'rdma.max'), `${dev} ${parts.join(' ')}`, `linux.resources.rdma["${dev}"]`);
    }
    if (r.unified && Object.keys(r.unified).length) {
      throw new SkiffError('linux.resources.unified: this host uses cgroup v1; unified (v2) settings cannot apply', 'ENOTSUP');
    }
  }

  private async applyMemory(m: NonNullable<LinuxResources['memory']>): Promise<void> {
    const d = this.dir('memory'), f = 'linux.resources.memory';
    if (m.useHierarchy !== undefined) await writeValue(join(d, 'memory.use_hierarchy'), m.useHierarchy ? '1' : '0', `${f}.useHierarchy`);
    if (m.checkBeforeUpdate && m.limit !== undefined && m.limit >= 0) {
      const usage = await readNumber(join(d, 'memory.usage_in_bytes'));
      if (usage > m.limit) throw new SkiffError(`${f}.limit: ${m.limit} is below the current usage ${usage}`, 'EBUSY');
    }
    const limit = join(d, 'memory.limit_in_bytes'), memsw = join(d, 'memory.memsw.limit_in_bytes');
    if (m.limit !== undefined && m.swap !== undefined) {
      // memsw (memory+swap) must stay >= the memory limit at every moment, so the order depends on the direction.
      try {
        await writeValue(memsw, limitValue(m.swap), `${f}.swap`);
        await writeValue(limit, limitValue(m.limit), `${f}.limit`);
      } catch {
        await writeValue(limit, limitValue(m.limit), `${f}.limit`);
        await writeValue(memsw, limitValue(m.swap), `${f}.swap`);
      }
    } else if (m.limit !== undefined) {
      await writeValue(limit, limitValue(m.limit), `${f}.limit`);
    } else if (m.swap !== undefined) {
      await writeValue(memsw, limitValue(m.swap), `${f}.swap`);
    }
    if (m.reservation !== undefined) await writeValue(join(d, 'memory.soft_limit_in_bytes'), limitValue(m.reservation), `${f}.reservation`);
    if (m.kernel !== undefined) await writeValue(join(d, 'memory.kmem.limit_in_bytes'), limitValue(m.kernel), `${f}.kernel`);
    if (m.kernelTCP !== undefined) await writeValue(join(d, 'memory.kmem.tcp.limit_in_bytes'), limitValue(m.kernelTCP), `${f}.kernelTCP`);
    if (m.swappiness !== undefined) await writeValue(join(d, 'memory.swappiness'), String(m.swappiness), `${f}.swappiness`);
    if (m.disableOOMKiller !== undefined) await writeValue(join(d, 'memory.oom_control'), m.disableOOMKiller ? '1' : '0', `${f}.disableOOMKiller`);
  }

  private async applyBlkio(b: NonNullable<LinuxResources['blockIO']>): Promise<void> {
    const d = this.dir('blkio'), f = 'linux.resources.blockIO';
    // With the BFQ scheduler the weight files carry a "bfq." prefix; CFQ is gone from modern kernels.
    const weightFile = async (name: string) => {
      const bfq = join(d, `blkio.bfq.${name}`);
      return existsSync(bfq) ? bfq : join(d, `blkio.${name}`);
    };
    if (b.weight !== undefined) await writeValue(await weightFile('weight'), String(b.weight), `${f}.weight`);
    if (b.leafWeight !== undefined) await writeValue(join(d, 'blkio.leaf_weight'), String(b.leafWeight), `${f}.leafWeight`);
    for (const [i, w] of (b.weightDevice ?? []).entries()) {
      if (w.weight !== undefined) await writeValue(await weightFile('weight_device'), `${w.major}:${w.minor} ${w.weight}`, `${f}.weightDevice[${i}]`);
      if (w.leafWeight !== undefined) await writeValue(join(d, 'blkio.leaf_weight_device'), `${w.major}:${w.minor} ${w.leafWeight}`, `${f}.weightDevice[${i}]`);
    }
    const throttles = [['throttleReadBpsDevice', 'read_bps_device'], ['throttleWriteBpsDevice', 'write_bps_device'],
      ['throttleReadIOPSDevice', 'read_iops_device'], ['throttleWriteIOPSDevice', 'write_iops_device']] as const;
    for (const [key, file] of throttles) {
      for (const [i, t] of (b[key] ?? []).entries()) {
        await writeValue(join(d, `blkio.throttle.${file}`), `${t.major}:${t.minor} ${t.rate}`, `${f}.${key}[${i}]`);
      }
    }
  }

  async freeze(): Promise<void> {
    const state = join(this.dir('freezer'), 'freezer.state');
    await writeValue(state, 'FROZEN', 'freezer');
    // FREEZING until every task has stopped; then FROZEN.
    for (let i = 0; i < 1000 && (await readValue(state)) !== 'FROZEN'; i++) {
      await new Promise((r) => setTimeout(r, 1));
      if (i % 50 === 49) await writeValue(state, 'FROZEN', 'freezer');
    }
  }

  async thaw(): Promise<void> {
    await writeValue(join(this.dir('freezer'), 'freezer.state'), 'THAWED', 'freezer');
  }

  async freezerState(): Promise<'frozen' | 'thawed'> {
    try {
      return (await readValue(join(this.dir('freezer'), 'freezer.state'))) === 'THAWED' ? 'thawed' : 'frozen';
    } catch {
      return 'thawed';
    }
  }

  async pids(): Promise<number[]> {
    const d = this.dirs.get('pids') ?? this.dirs.get('freezer') ?? this.uniqueDirs()[0];
    try {
      return (await readText(join(d, 'cgroup.procs'))).split('\n').filter(Boolean).map(Number);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async oomKillCount(): Promise<number> {
    return (await readKeyed(join(this.dir('memory'), 'memory.oom_control'))).oom_kill ?? 0;
  }

  // v1 notifies OOM through cgroup.event_control with an eventfd, which Node cannot create; poll the counter.
  onOom(listener: () => void): () => void {
    return pollOomKills(() => this.oomKillCount(), listener);
  }

  async killAll(signal: number): Promise<void> {
    const hasFreezer = this.dirs.has('freezer');
    if (hasFreezer) await this.freeze();
    try {
      signalEach(await this.pids(), signal);
    } finally {
      if (hasFreezer) await this.thaw();
    }
  }

  async stats(): Promise<CgroupStats> {
    const mem = this.dirs.get('memory'), cpuacct = this.dirs.get('cpuacct'), cpu = this.dirs.get('cpu');
    const entry = async (prefix: string): Promise<MemoryEntry> => ({
      limit: clampU64(await readValue(join(mem!, `${prefix}.limit_in_bytes`)).catch(() => '0')),
      usage: await readNumber(join(mem!, `${prefix}.usage_in_bytes`)),
      max: await readNumber(join(mem!, `${prefix}.max_usage_in_bytes`)),
      failcnt: await readNumber(join(mem!, `${prefix}.failcnt`)),
    });
    const raw = mem ? await readKeyed(join(mem, 'memory.stat')) : {};
    const acct = cpuacct ? await readKeyed(join(cpuacct, 'cpuacct.stat')) : {};
    const tick = 1e9 / 100; // USER_HZ is 100 on Linux
    const throttle = cpu ? await readKeyed(join(cpu, 'cpu.stat')) : {};
    const percpu = cpuacct ? (await readValue(join(cpuacct, 'cpuacct.usage_percpu')).catch(() => '')).split(/\s+/).filter(Boolean).map(Number) : [];
    return {
      cpu: {
        usage: { total: cpuacct ? await readNumber(join(cpuacct, 'cpuacct.usage')) : 0, percpu, kernel: (acct.system ?? 0) * tick, user: (acct.user ?? 0) * tick },
        throttling: { periods: throttle.nr_periods ?? 0, throttledPeriods: throttle.nr_throttled ?? 0, throttledTime: throttle.throttled_time ?? 0 },
      },
      memory: {
        cache: raw.total_cache ?? raw.cache ?? 0,
        usage: mem ? await entry('memory') : { limit: 0, usage: 0, max: 0, failcnt: 0 },
        swap: mem ? await entry('memory.memsw') : undefined,
        kernel: mem ? await entry('memory.kmem') : undefined,
        raw,
      },
      pids: {
        current: this.dirs.get('pids') ? await readNumber(join(this.dirs.get('pids')!, 'pids.current')) : 0,
        limit: this.dirs.get('pids') ? Math.max(0, await readNumber(join(this.dirs.get('pids')!, 'pids.max'))) : 0,
      },
      blkio: {
        ioServiceBytesRecursive: await this.blkioEntries('blkio.throttle.io_service_bytes_recursive'),
        ioServicedRecursive: await this.blkioEntries('blkio.throttle.io_serviced_recursive'),
      },
    };
  }

  private async blkioEntries(file: string): Promise<BlkioEntry[]> {
    const d = this.dirs.get('blkio');
    if (!d) return [];
    const text = await readText(join(d, file)).catch(() => '');
    return text.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 3 && p[0].includes(':'))
      .map(([dev, op, v]) => ({ major: Number(dev.split(':')[0]), minor: Number(dev.split(':')[1]), op, value: Number(v) }));
  }

  async destroy(): Promise<void> {
    for (const [ctl, d] of this.dirs) await removeWithEmptyParents(d, this.mountOfUnchecked(ctl));
  }

  private mountOfUnchecked(controller: string): string {
    return this.dirs.get(controller)!.slice(0, -this.path.length);
  }
}

function clampU64(v: string): number {
  return BigInt(v || '0') >= U64_MAX / 2n ? -1 : Number(v);
}
