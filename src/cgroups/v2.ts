// cgroup v2: one unified hierarchy (Documentation/admin-guide/cgroup-v2.rst). runc's fs2 driver is the reference
// for converting v1-style resources (shares -> weight, blkio weight -> io.weight, swap semantics).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError, ValidationError } from '../common/errors.js';
import type { LinuxResources } from '../oci/runtime-spec.js';
import { blkioToIoWeight, cpuMaxValue, maxOrNumber, pidsMaxValue, sharesToWeight, swapMaxValue } from './convert.js';
import { mkdirTracked, readKeyed, readText, readNumber, readValue, pollOomKills, removeCgroupDir, rmdirRetry, signalEach, writeValue } from './fs.js';
import { detectCgroupSupport, type CgroupSupport } from './layout.js';
import type { BlkioEntry, CgroupManager, CgroupStats, HugetlbEntry } from './types.js';
import { ignoredResources, validateResources } from './validate.js';

const F = 'linux.resources';
const CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc'];

export class CgroupV2 implements CgroupManager {
  readonly version = 2;
  readonly dir: string;

  private support?: CgroupSupport;

  constructor(
    readonly path: string, readonly root = '/sys/fs/cgroup', support?: CgroupSupport, private readonly warn?: (message: string) => void,
  ) {
    this.dir = join(root, path);
    this.support = support;
  }

  private hostSupport(): CgroupSupport {
    this.support ??= detectCgroupSupport('v2', this.root);
    return this.support;
  }

  /** Refuses, before anything is written, what cgroup v2 or this host cannot do. */
  private check(resources: LinuxResources): void {
    const problems = validateResources(resources, F, 'v2', this.hostSupport());
    if (resources.devices?.length) {
      // create attaches them as a BPF program (the plan's bpf-devices step); replacing a live program is not done.
      problems.push({ path: `${F}.devices`, message: 'cgroup v2 device rules are a BPF program attached when the container is created; they cannot be written as cgroup files' });
    }
    if (problems.length) throw new ValidationError(`cgroup ${this.path}`, problems);
    const ignored = ignoredResources(resources, F, 'v2', this.hostSupport());
    if (ignored) this.warn?.(ignored);
  }

  async create(resources?: LinuxResources): Promise<void> {
    if (resources) this.check(resources);
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
      const enabled = (await readValue(join(d, 'cgroup.subtree_control'))).split(/\s+/);
      const wanted = available.filter((c) => CONTROLLERS.includes(c) && !enabled.includes(c));
      if (wanted.length) await writeValue(join(d, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '), `cgroup ${join(d, 'cgroup.subtree_control')}`);
      d = join(d, part);
    }
  }

  async addProcess(pid: number): Promise<void> {
    await writeValue(join(this.dir, 'cgroup.procs'), String(pid), 'cgroup.procs');
  }

  selfJoinFiles(): undefined {
    return undefined;
  }

  async update(resources: LinuxResources): Promise<void> {
    this.check(resources);
    await this.apply(resources);
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private async apply(r: LinuxResources): Promise<void> {
    if (r.memory) await this.applyMemory(r.memory);
    if (r.cpu) {
      const c = r.cpu, f = `${F}.cpu`;
      if (c.shares) await writeValue(this.file('cpu.weight'), String(sharesToWeight(c.shares)), `${f}.shares`);
      if (c.quota || c.period) {
        await writeValue(this.file('cpu.max'), cpuMaxValue(c.quota || undefined, c.period || undefined, await readValue(this.file('cpu.max'))), `${f}.quota`);
      }
      if (c.burst !== undefined) await writeValue(this.file('cpu.max.burst'), String(c.burst), `${f}.burst`);
      if (c.idle !== undefined) await writeValue(this.file('cpu.idle'), String(c.idle), `${f}.idle`);
      if (c.cpus) await writeValue(this.file('cpuset.cpus'), c.cpus, `${f}.cpus`);
      if (c.mems) await writeValue(this.file('cpuset.mems'), c.mems, `${f}.mems`);
    }
    if (r.pids) await writeValue(this.file('pids.max'), pidsMaxValue(r.pids.limit), `${F}.pids.limit`);
    if (r.blockIO) await this.applyIo(r.blockIO);
    for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
      await writeValue(this.file(`hugetlb.${h.pageSize}.max`), String(h.limit), `${F}.hugepageLimits[${i}]`);
    }
    for (const [dev, l] of Object.entries(r.rdma ?? {})) {
      const parts = [l.hcaHandles !== undefined ? `hca_handle=${l.hcaHandles}` : '', l.hcaObjects !== undefined ? `hca_object=${l.hcaObjects}` : ''].filter(Boolean);
      await writeValue(this.file('rdma.max'), `${dev} ${parts.join(' ')}`, `${F}.rdma["${dev}"]`);
    }
    // Written last so they override what the fields above set, as runc does.
    for (const [k, v] of Object.entries(r.unified ?? {})) await writeValue(this.file(k), v, `${F}.unified["${k}"]`);
  }

  private async applyMemory(m: NonNullable<LinuxResources['memory']>): Promise<void> {
    const f = `${F}.memory`;
    const limit = m.limit || undefined;
    if (m.checkBeforeUpdate && limit !== undefined && limit > 0) {
      const usage = await readNumber(this.file('memory.current'));
      if (usage > limit) throw new SkiffError(`${f}.limit: ${limit} is below the current usage ${usage}`, 'EBUSY');
    }
    // A swap change alone is still memory+swap: it is measured against the memory limit in force.
    const limitInForce = limit ?? (m.swap ? await readNumber(this.file('memory.max')) : undefined);
    const swap = swapMaxValue(m.swap, limitInForce);
    // Unlike v1 the two files are independent, so their order does not matter.
    if (swap !== undefined) await writeValue(this.file('memory.swap.max'), swap, `${f}.swap`);
    if (limit !== undefined) await writeValue(this.file('memory.max'), maxOrNumber(limit), `${f}.limit`);
    if (m.reservation !== undefined) await writeValue(this.file('memory.low'), maxOrNumber(m.reservation), `${f}.reservation`);
  }

  private async applyIo(b: NonNullable<LinuxResources['blockIO']>): Promise<void> {
    const f = `${F}.blockIO`;
    // With BFQ, io.bfq.weight takes the v1 range (1..1000) as it is; io.weight takes 1..10000 (runc's fs2 io.go).
    const bfq = existsSync(this.file('io.bfq.weight'));
    const weightFile = bfq ? this.file('io.bfq.weight') : this.file('io.weight');
    const weight = (w: number) => String(bfq ? w : blkioToIoWeight(w));
    if (b.weight) await writeValue(weightFile, `default ${weight(b.weight)}`, `${f}.weight`);
    for (const [i, w] of (b.weightDevice ?? []).entries()) {
      if (w.weight !== undefined) await writeValue(weightFile, `${w.major}:${w.minor} ${weight(w.weight)}`, `${f}.weightDevice[${i}].weight`);
    }
    const keys = [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']] as const;
    for (const [key, name] of keys) {
      // A rate of 0 removes a v1 throttle; its v2 equivalent is "max".
      for (const [i, t] of (b[key] ?? []).entries()) {
        await writeValue(this.file('io.max'), `${t.major}:${t.minor} ${name}=${t.rate === 0 ? 'max' : t.rate}`, `${f}.${key}[${i}]`);
      }
    }
  }

  async freeze(): Promise<void> {
    await writeValue(this.file('cgroup.freeze'), '1', 'cgroup.freeze');
    // cgroup-v2.rst: the write returns at once; cgroup.events says "frozen 1" once every process has stopped.
    for (let i = 0; i < 1000 && (await this.freezerState()) !== 'frozen'; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    if ((await this.freezerState()) !== 'frozen') {
      await this.thaw();
      throw new SkiffError(`cgroup ${this.path}: its processes did not freeze within a second`, 'EBUSY');
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

  oomKillFile(): string {
    return this.file('memory.events');
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
      hugetlb: await this.hugetlbStats(),
    };
  }

  private async hugetlbStats(): Promise<Record<string, HugetlbEntry>> {
    const out: Record<string, HugetlbEntry> = {};
    for (const size of this.hostSupport().hugepageSizes) {
      if (!existsSync(this.file(`hugetlb.${size}.current`))) continue;
      // cgroup v2 keeps no peak for hugetlb; "max" in hugetlb.<size>.events counts allocations refused at the limit.
      out[size] = {
        usage: await readNumber(this.file(`hugetlb.${size}.current`)),
        max: 0,
        failcnt: (await readKeyed(this.file(`hugetlb.${size}.events`))).max ?? 0,
      };
    }
    return out;
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
    await removeCgroupDir(this.root, this.path);
  }
}
