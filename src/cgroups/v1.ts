// cgroup v1: one directory per hierarchy (cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids, ...), each
// written by hand (Documentation/admin-guide/cgroup-v1/*). Limits follow runc's fs driver.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError, ValidationError } from '../common/errors.js';
import type { LinuxResources } from '../oci/runtime-spec.js';
import { pidsMaxValue } from './convert.js';
import { mkdirTracked, readKeyed, readText, readNumber, readValue, pollOomKills, removeCgroupDir, rmdirRetry, signalEach, writeValue } from './fs.js';
import { detectCgroupSupport, type CgroupSupport, type V1Layout } from './layout.js';
import type { BlkioEntry, CgroupManager, CgroupStats, HugetlbEntry, MemoryEntry } from './types.js';
import { ignoredResources, validateResources } from './validate.js';

export { v1Hierarchies } from './layout.js';

/** The v1 memory controller reports "unlimited" as the largest page-aligned signed 64-bit number. */
const UNLIMITED_FLOOR = 2n ** 62n;
const limitValue = (n: number) => (n < 0 ? '-1' : String(n));
const F = 'linux.resources';

export class CgroupV1 implements CgroupManager {
  readonly version = 1;
  /**
   * On a hybrid host, this cgroup on the cgroup2 mount, for the controllers only it has (hugetlb). Made only for a
   * container with huge page limits, since it means enabling hugetlb at the cgroup2 root.
   */
  private readonly unifiedDir?: string;
  private readonly unifiedOnly: string[];
  private support?: CgroupSupport;

  constructor(
    readonly path: string, private readonly layout: V1Layout, support?: CgroupSupport, private readonly warn?: (message: string) => void,
  ) {
    this.unifiedOnly = layout.unifiedControllers.filter((c) => !layout.hierarchies.has(c));
    if (layout.unified && this.unifiedOnly.length) this.unifiedDir = join(layout.unified, path);
    this.support = support;
  }

  /** This cgroup's directory in the controller's hierarchy, if the host mounts that controller. */
  private dirOf(controller: string): string | undefined {
    const mnt = this.layout.hierarchies.get(controller);
    return mnt === undefined ? undefined : join(mnt, this.path);
  }

  private dir(controller: string): string {
    const d = this.dirOf(controller);
    if (!d) throw new SkiffError(`the ${controller} cgroup controller is not mounted on this host`, 'ENOTSUP');
    return d;
  }

  private mounts(): string[] {
    return [...new Set(this.layout.hierarchies.values())];
  }

  private hostSupport(): CgroupSupport {
    this.support ??= detectCgroupSupport(this.layout.unified ? 'hybrid' : 'v1', undefined, this.layout);
    return this.support;
  }

  /** Refuses, before anything is written, what this host's hierarchies cannot do. */
  private check(resources: LinuxResources): void {
    const problems = validateResources(resources, F, this.hostSupport().mode, this.hostSupport());
    if (problems.length) throw new ValidationError(`cgroup ${this.path}`, problems);
    const ignored = ignoredResources(resources, F, this.hostSupport().mode, this.hostSupport());
    if (ignored) this.warn?.(ignored);
  }

  async create(resources?: LinuxResources): Promise<void> {
    if (resources) this.check(resources);
    const made: string[] = [];
    try {
      for (const mnt of this.mounts()) await mkdirTracked(join(mnt, this.path), made);
      const cpusetMount = this.layout.hierarchies.get('cpuset');
      // cpusets(7): a new cpuset starts with empty cpus and mems and accepts no task until both are set, so each
      // directory we made (parents first) inherits its parent's.
      for (const d of made.filter((m) => cpusetMount && m.startsWith(cpusetMount + '/'))) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if ((await readValue(join(d, f))) === '') await writeValue(join(d, f), await readValue(join(d, '..', f)), `cgroup ${f}`);
        }
      }
      if (this.unifiedDir && resources?.hugepageLimits?.length) await this.createUnified(made);
      if (resources) await this.apply(resources, true);
    } catch (err) {
      for (const d of made.reverse()) await rmdirRetry(d).catch(() => {});
      throw err;
    }
  }

  /**
   * cgroup-v2.rst "Enabling and Disabling": a controller's files appear in a cgroup only when every ancestor lists it
   * in cgroup.subtree_control. On a hybrid host that includes the cgroup2 root, where skiff enables hugetlb (and
   * leaves it enabled: other cgroups may rely on it by then).
   */
  private async createUnified(made: string[]): Promise<void> {
    const unified = this.layout.unified!;
    await mkdirTracked(this.unifiedDir!, made);
    const parts = this.path.split('/').filter(Boolean);
    for (let i = 0, d = unified; i < parts.length; d = join(d, parts[i]), i++) {
      const control = join(d, 'cgroup.subtree_control');
      const enabled = (await readValue(control)).split(/\s+/);
      const wanted = this.unifiedOnly.filter((c) => !enabled.includes(c));
      if (wanted.length) await writeValue(control, wanted.map((c) => `+${c}`).join(' '), `cgroup ${control}`);
    }
  }

  async addProcess(pid: number): Promise<void> {
    for (const mnt of this.mounts()) await writeValue(join(mnt, this.path, 'cgroup.procs'), String(pid), 'cgroup.procs');
    if (this.unifiedDir && existsSync(this.unifiedDir)) await writeValue(join(this.unifiedDir, 'cgroup.procs'), String(pid), 'cgroup.procs');
  }

  selfJoinFiles(): string[] | undefined {
    if (this.unifiedDir && existsSync(this.unifiedDir)) return undefined;
    return this.mounts().map((mnt) => join(mnt, this.path, 'tasks'));
  }

  async update(resources: LinuxResources): Promise<void> {
    this.check(resources);
    await this.apply(resources, false);
  }

  private async apply(r: LinuxResources, creating: boolean): Promise<void> {
    if (r.devices) await this.applyDevices(r.devices, creating);
    if (r.memory) await this.applyMemory(r.memory);
    if (r.cpu) await this.applyCpu(r.cpu);
    if (r.pids) await writeValue(join(this.dir('pids'), 'pids.max'), pidsMaxValue(r.pids.limit), `${F}.pids.limit`);
    if (r.blockIO) await this.applyBlkio(r.blockIO);
    for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
      const file = this.layout.hierarchies.has('hugetlb') ? join(this.dir('hugetlb'), `hugetlb.${h.pageSize}.limit_in_bytes`) : this.unifiedFile(`hugetlb.${h.pageSize}.max`);
      await writeValue(file, String(h.limit), `${F}.hugepageLimits[${i}]`);
    }
    if (r.network?.classID !== undefined) {
      await writeValue(join(this.dir('net_cls'), 'net_cls.classid'), String(r.network.classID), `${F}.network.classID`);
    }
    for (const [i, p] of (r.network?.priorities ?? []).entries()) {
      await writeValue(join(this.dir('net_prio'), 'net_prio.ifpriomap'), `${p.name} ${p.priority}`, `${F}.network.priorities[${i}]`);
    }
    for (const [dev, l] of Object.entries(r.rdma ?? {})) {
      const parts = [l.hcaHandles !== undefined ? `hca_handle=${l.hcaHandles}` : '', l.hcaObjects !== undefined ? `hca_object=${l.hcaObjects}` : ''].filter(Boolean);
      await writeValue(join(this.dir('rdma'), 'rdma.max'), `${dev} ${parts.join(' ')}`, `${F}.rdma["${dev}"]`);
    }
  }

  private unifiedFile(name: string): string {
    if (!this.unifiedDir) throw new SkiffError('the hugetlb cgroup controller is not available on this host', 'ENOTSUP');
    if (!existsSync(this.unifiedDir)) {
      throw new SkiffError(`linux.resources.hugepageLimits: on this hybrid host huge page limits live on the cgroup2 mount, where cgroup ${this.path} exists only if it was created with some`, 'ENOTSUP');
    }
    return join(this.unifiedDir, name);
  }

  /**
   * devices.allow/deny take one rule per write, applied in order. A new cgroup inherits its parent's list (usually
   * everything), so create starts from deny-all, as runc's device emulator does: only the rules given are allowed.
   */
  private async applyDevices(rules: NonNullable<LinuxResources['devices']>, creating: boolean): Promise<void> {
    const d = this.dir('devices');
    if (creating) await writeValue(join(d, 'devices.deny'), 'a', `${F}.devices`);
    for (const [i, rule] of rules.entries()) {
      const type = rule.type ?? 'a';
      const num = (n: number | null | undefined) => (n == null || n < 0 ? '*' : String(n));
      const entry = type === 'a' ? 'a' : `${type} ${num(rule.major)}:${num(rule.minor)} ${rule.access ?? 'rwm'}`;
      await writeValue(join(d, rule.allow ? 'devices.allow' : 'devices.deny'), entry, `${F}.devices[${i}]`);
    }
  }

  private async applyMemory(m: NonNullable<LinuxResources['memory']>): Promise<void> {
    const d = this.dir('memory'), f = `${F}.memory`;
    const support = this.hostSupport();
    if (m.useHierarchy !== undefined) await writeValue(join(d, 'memory.use_hierarchy'), m.useHierarchy ? '1' : '0', `${f}.useHierarchy`);
    // As runc, 0 means "not set" for both; -1 memory with swap unset lifts the swap limit too.
    const limit = m.limit || undefined;
    let swap = m.swap || undefined;
    if (limit === -1 && swap === undefined && support.swapAccounting) swap = -1;
    if (swap === -1 && !support.swapAccounting) swap = undefined; // no swap accounting: memory+swap is already unlimited
    if (m.checkBeforeUpdate && limit !== undefined && limit > 0) {
      const usage = await readNumber(join(d, 'memory.usage_in_bytes'));
      if (usage > limit) throw new SkiffError(`${f}.limit: ${limit} is below the current usage ${usage}`, 'EBUSY');
    }
    const writeLimit = () => writeValue(join(d, 'memory.limit_in_bytes'), limitValue(limit!), `${f}.limit`);
    const writeSwap = () => writeValue(join(d, 'memory.memsw.limit_in_bytes'), limitValue(swap!), `${f}.swap`);
    // The kernel keeps memory.limit <= memory.memsw.limit at every write: raising both needs memsw first,
    // lowering them needs the memory limit first (runc's setMemoryAndSwap).
    const current = await readValue(join(d, 'memory.limit_in_bytes'));
    if (limit !== undefined && swap !== undefined && (swap === -1 || BigInt(current) < BigInt(swap))) {
      await writeSwap();
      await writeLimit();
    } else {
      if (limit !== undefined) await writeLimit();
      if (swap !== undefined) await writeSwap();
    }
    if (m.reservation !== undefined) await writeValue(join(d, 'memory.soft_limit_in_bytes'), limitValue(m.reservation), `${f}.reservation`);
    // memory.kernel is never written, and kernelTCP only where the kernel has it (ignoredResources says why).
    if (m.kernelTCP !== undefined && support.kernelTCP) await writeValue(join(d, 'memory.kmem.tcp.limit_in_bytes'), limitValue(m.kernelTCP), `${f}.kernelTCP`);
    if (m.swappiness !== undefined) await writeValue(join(d, 'memory.swappiness'), String(m.swappiness), `${f}.swappiness`);
    if (m.disableOOMKiller !== undefined) await writeValue(join(d, 'memory.oom_control'), m.disableOOMKiller ? '1' : '0', `${f}.disableOOMKiller`);
  }

  private async applyCpu(c: NonNullable<LinuxResources['cpu']>): Promise<void> {
    const f = `${F}.cpu`;
    const file = (name: string) => join(this.dir('cpu'), name);
    if (c.shares) await writeValue(file('cpu.shares'), String(c.shares), `${f}.shares`);
    // sched-bwc.rst: the quota is checked against the period in force, so the period goes first.
    if (c.period) await writeValue(file('cpu.cfs_period_us'), String(c.period), `${f}.period`);
    if (c.quota) await writeValue(file('cpu.cfs_quota_us'), String(c.quota < 0 ? -1 : c.quota), `${f}.quota`);
    if (c.burst !== undefined) await writeValue(file('cpu.cfs_burst_us'), String(c.burst), `${f}.burst`);
    // sched-rt-group.rst: a group's runtime must fit its period, so the period goes first.
    if (c.realtimePeriod) await writeValue(file('cpu.rt_period_us'), String(c.realtimePeriod), `${f}.realtimePeriod`);
    if (c.realtimeRuntime !== undefined) await writeValue(file('cpu.rt_runtime_us'), String(c.realtimeRuntime), `${f}.realtimeRuntime`);
    if (c.idle !== undefined) await writeValue(file('cpu.idle'), String(c.idle), `${f}.idle`);
    if (c.cpus) await writeValue(join(this.dir('cpuset'), 'cpuset.cpus'), c.cpus, `${f}.cpus`);
    if (c.mems) await writeValue(join(this.dir('cpuset'), 'cpuset.mems'), c.mems, `${f}.mems`);
  }

  private async applyBlkio(b: NonNullable<LinuxResources['blockIO']>): Promise<void> {
    const d = this.dir('blkio'), f = `${F}.blockIO`;
    // With the BFQ scheduler the weight files carry a "bfq." prefix; CFQ (plain blkio.weight) left Linux in 5.0.
    const weightFile = (name: string) => {
      const bfq = join(d, `blkio.bfq.${name}`);
      return existsSync(bfq) ? bfq : join(d, `blkio.${name}`);
    };
    if (b.weight) await writeValue(weightFile('weight'), String(b.weight), `${f}.weight`);
    if (b.leafWeight) await writeValue(join(d, 'blkio.leaf_weight'), String(b.leafWeight), `${f}.leafWeight`);
    for (const [i, w] of (b.weightDevice ?? []).entries()) {
      if (w.weight !== undefined) await writeValue(weightFile('weight_device'), `${w.major}:${w.minor} ${w.weight}`, `${f}.weightDevice[${i}].weight`);
      if (w.leafWeight !== undefined) await writeValue(join(d, 'blkio.leaf_weight_device'), `${w.major}:${w.minor} ${w.leafWeight}`, `${f}.weightDevice[${i}].leafWeight`);
    }
    const throttles = [['throttleReadBpsDevice', 'read_bps_device'], ['throttleWriteBpsDevice', 'write_bps_device'],
      ['throttleReadIOPSDevice', 'read_iops_device'], ['throttleWriteIOPSDevice', 'write_iops_device']] as const;
    for (const [key, file] of throttles) {
      // blkio-controller.rst: a rate of 0 removes the device's limit.
      for (const [i, t] of (b[key] ?? []).entries()) {
        await writeValue(join(d, `blkio.throttle.${file}`), `${t.major}:${t.minor} ${t.rate}`, `${f}.${key}[${i}]`);
      }
    }
  }

  async freeze(): Promise<void> {
    const state = join(this.dir('freezer'), 'freezer.state');
    await writeValue(state, 'FROZEN', 'freezer.state');
    // freezer-subsystem.rst: the state reads FREEZING until every task has stopped; writing FROZEN again retries
    // the tasks that were busy (in a vfork, for example).
    for (let i = 0; i < 1000 && (await readValue(state)) !== 'FROZEN'; i++) {
      await new Promise((r) => setTimeout(r, 1));
      if (i % 50 === 49) await writeValue(state, 'FROZEN', 'freezer.state');
    }
    if ((await readValue(state)) !== 'FROZEN') {
      await this.thaw();
      throw new SkiffError(`cgroup ${this.path}: its processes did not freeze within a second`, 'EBUSY');
    }
  }

  async thaw(): Promise<void> {
    await writeValue(join(this.dir('freezer'), 'freezer.state'), 'THAWED', 'freezer.state');
  }

  async freezerState(): Promise<'frozen' | 'thawed'> {
    try {
      return (await readValue(join(this.dir('freezer'), 'freezer.state'))) === 'THAWED' ? 'thawed' : 'frozen';
    } catch {
      return 'thawed';
    }
  }

  async pids(): Promise<number[]> {
    const d = this.dirOf('pids') ?? this.dirOf('freezer') ?? join(this.mounts()[0], this.path);
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

  oomKillFile(): string | undefined {
    return this.layout.hierarchies.has('memory') ? join(this.dir('memory'), 'memory.oom_control') : undefined;
  }

  // v1 notifies OOM through cgroup.event_control with an eventfd(2), which Node cannot create; poll the counter.
  onOom(listener: () => void): () => void {
    return pollOomKills(() => this.oomKillCount(), listener);
  }

  async killAll(signal: number): Promise<void> {
    const hasFreezer = this.layout.hierarchies.has('freezer');
    if (hasFreezer) await this.freeze();
    try {
      signalEach(await this.pids(), signal);
    } finally {
      if (hasFreezer) await this.thaw();
    }
  }

  async stats(): Promise<CgroupStats> {
    const mem = this.dirOf('memory'), cpuacct = this.dirOf('cpuacct'), cpu = this.dirOf('cpu'), pids = this.dirOf('pids');
    const entry = async (prefix: string): Promise<MemoryEntry> => ({
      limit: unlimitedAsMinusOne(await readValue(join(mem!, `${prefix}.limit_in_bytes`)).catch(() => '0')),
      usage: await readNumber(join(mem!, `${prefix}.usage_in_bytes`)),
      max: await readNumber(join(mem!, `${prefix}.max_usage_in_bytes`)),
      failcnt: await readNumber(join(mem!, `${prefix}.failcnt`)),
    });
    const raw = mem ? await readKeyed(join(mem, 'memory.stat')) : {};
    const acct = cpuacct ? await readKeyed(join(cpuacct, 'cpuacct.stat')) : {};
    const tick = 1e9 / 100; // cpuacct.stat counts USER_HZ ticks, 100 per second on Linux
    const throttle = cpu ? await readKeyed(join(cpu, 'cpu.stat')) : {};
    const list = async (file: string) => (cpuacct ? (await readValue(join(cpuacct, file)).catch(() => '')).split(/\s+/).filter(Boolean).map(Number) : []);
    return {
      cpu: {
        usage: {
          total: cpuacct ? await readNumber(join(cpuacct, 'cpuacct.usage')) : 0,
          percpu: await list('cpuacct.usage_percpu'),
          percpu_kernel: await list('cpuacct.usage_percpu_sys'),
          percpu_user: await list('cpuacct.usage_percpu_user'),
          kernel: (acct.system ?? 0) * tick,
          user: (acct.user ?? 0) * tick,
        },
        throttling: { periods: throttle.nr_periods ?? 0, throttledPeriods: throttle.nr_throttled ?? 0, throttledTime: throttle.throttled_time ?? 0 },
      },
      memory: {
        cache: raw.total_cache ?? raw.cache ?? 0,
        usage: mem ? await entry('memory') : { limit: 0, usage: 0, max: 0, failcnt: 0 },
        swap: mem && existsSync(join(mem, 'memory.memsw.usage_in_bytes')) ? await entry('memory.memsw') : undefined,
        kernel: mem ? await entry('memory.kmem') : undefined,
        kernelTCP: mem ? await entry('memory.kmem.tcp') : undefined,
        raw,
      },
      pids: {
        current: pids ? await readNumber(join(pids, 'pids.current')) : 0,
        limit: pids ? Math.max(0, await readNumber(join(pids, 'pids.max'))) : 0,
      },
      blkio: {
        ioServiceBytesRecursive: await this.blkioEntries('blkio.throttle.io_service_bytes_recursive'),
        ioServicedRecursive: await this.blkioEntries('blkio.throttle.io_serviced_recursive'),
      },
      hugetlb: await this.hugetlbStats(),
    };
  }

  private async hugetlbStats(): Promise<Record<string, HugetlbEntry>> {
    const out: Record<string, HugetlbEntry> = {};
    const v1 = this.dirOf('hugetlb');
    for (const size of this.hostSupport().hugepageSizes) {
      if (v1) {
        out[size] = {
          usage: await readNumber(join(v1, `hugetlb.${size}.usage_in_bytes`)),
          max: await readNumber(join(v1, `hugetlb.${size}.max_usage_in_bytes`)),
          failcnt: await readNumber(join(v1, `hugetlb.${size}.failcnt`)),
        };
      } else if (this.unifiedDir && existsSync(join(this.unifiedDir, `hugetlb.${size}.current`))) {
        // cgroup v2 keeps no peak for hugetlb; "max" in hugetlb.<size>.events counts allocations refused at the limit.
        out[size] = {
          usage: await readNumber(join(this.unifiedDir, `hugetlb.${size}.current`)),
          max: 0,
          failcnt: (await readKeyed(join(this.unifiedDir, `hugetlb.${size}.events`))).max ?? 0,
        };
      }
    }
    return out;
  }

  private async blkioEntries(file: string): Promise<BlkioEntry[]> {
    const d = this.dirOf('blkio');
    if (!d) return [];
    const text = await readText(join(d, file)).catch(() => '');
    return text.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 3 && p[0].includes(':'))
      .map(([dev, op, v]) => ({ major: Number(dev.split(':')[0]), minor: Number(dev.split(':')[1]), op, value: Number(v) }));
  }

  async destroy(): Promise<void> {
    for (const mnt of this.mounts()) await removeCgroupDir(mnt, this.path);
    if (this.unifiedDir) await removeCgroupDir(this.layout.unified!, this.path);
  }
}

function unlimitedAsMinusOne(v: string): number {
  return BigInt(v || '0') >= UNLIMITED_FLOOR ? -1 : Number(v);
}
