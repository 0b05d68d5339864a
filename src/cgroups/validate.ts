// Checks linux.resources before anything is created: types and ranges, then what this host's cgroups cannot do.
// Every problem is reported with its JSON path, all of them at once.
import type { Problem } from '../common/errors.js';
import type { CgroupSupport } from './layout.js';
import type { CgroupMode } from './types.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const CPU_LIST = /^(\d+(-\d+)?)(,\d+(-\d+)?)*$/;
const THROTTLES = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const;

class Checker {
  readonly problems: Problem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  int(v: unknown, path: string, min = -Infinity, max = Infinity): v is number {
    if (v === undefined) return false;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.add(path, 'must be an integer');
    else if (v < min || v > max) this.add(path, max === Infinity ? `must be at least ${min}` : `must be ${min}..${max}`);
    else return true;
    return false;
  }

  bool(v: unknown, path: string): void {
    if (v !== undefined && typeof v !== 'boolean') this.add(path, 'must be true or false');
  }

  obj(v: unknown, path: string): v is Json {
    if (v === undefined) return false;
    if (!isObj(v)) this.add(path, 'must be an object');
    return isObj(v);
  }

  arr(v: unknown, path: string): v is unknown[] {
    if (v === undefined) return false;
    if (!Array.isArray(v)) this.add(path, 'must be an array');
    return Array.isArray(v);
  }

  /** Reports a field the host cannot enforce. */
  unsupported(v: unknown, path: string, can: boolean | undefined, why: string): void {
    if (v !== undefined && can === false) this.add(path, why);
  }
}

/**
 * Problems in `r` (the runtime spec's linux.resources) for a host in `mode`. With `support`, also every field this
 * host's cgroups cannot enforce, so nothing is asked of the kernel that it would reject or silently ignore.
 */
export function validateResources(r: unknown, path = 'linux.resources', mode: CgroupMode, support?: CgroupSupport): Problem[] {
  const c = new Checker();
  if (!isObj(r)) return [{ path, message: 'must be an object' }];
  const v2 = mode === 'v2';
  const has = (controller: string) => (support ? support.controllers.has(controller) : undefined);
  const missing = (controller: string) => `the ${controller} cgroup controller is not available on this host`;

  if (c.arr(r.devices, `${path}.devices`)) {
    r.devices.forEach((d, i) => {
      const p = `${path}.devices[${i}]`;
      if (!c.obj(d, p)) return;
      if (typeof d.allow !== 'boolean') c.add(`${p}.allow`, 'is required (true or false)');
      if (d.type !== undefined && !['a', 'c', 'b'].includes(d.type as string)) c.add(`${p}.type`, `must be a, c or b, not "${String(d.type)}"`);
      if (d.access !== undefined && (typeof d.access !== 'string' || !/^[rwm]+$/.test(d.access))) c.add(`${p}.access`, 'must be a combination of r, w, m');
      if (d.major !== null) c.int(d.major, `${p}.major`, -1);
      if (d.minor !== null) c.int(d.minor, `${p}.minor`, -1);
    });
    // v2 device rules are a BPF program the native helper attaches; v1 needs the devices hierarchy.
    if (!v2) c.unsupported(r.devices, `${path}.devices`, has('devices'), missing('devices'));
  }

  if (c.obj(r.memory, `${path}.memory`)) {
    const m = r.memory, p = `${path}.memory`;
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) c.int(m[k], `${p}.${k}`, -1);
    c.int(m.swappiness, `${p}.swappiness`, 0, 100);
    for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) c.bool(m[k], `${p}.${k}`);
    if (typeof m.limit === 'number' && typeof m.swap === 'number' && m.limit > 0 && m.swap > 0 && m.swap < m.limit) {
      c.add(`${p}.swap`, `memory+swap ${m.swap} is below the memory limit ${m.limit}`);
    }
    if (v2 && typeof m.swap === 'number' && m.swap > 0 && (m.limit === undefined || m.limit === 0)) {
      c.add(`${p}.swap`, 'a swap limit needs memory.limit on cgroup v2 (the spec\'s swap is memory+swap)');
    }
    if (v2) {
      if (m.swappiness !== undefined) c.add(`${p}.swappiness`, 'per-cgroup swappiness does not exist on cgroup v2');
      if (m.disableOOMKiller === true) c.add(`${p}.disableOOMKiller`, 'cgroup v2 cannot disable the OOM killer');
      if (m.useHierarchy === false) c.add(`${p}.useHierarchy`, 'cgroup v2 is always hierarchical');
    } else if (support) {
      if (!has('memory')) c.add(p, missing('memory'));
      const swapLimit = typeof m.swap === 'number' && m.swap !== 0;
      c.unsupported(swapLimit ? m.swap : undefined, `${p}.swap`, support.swapAccounting,
        'swap accounting is off on this host (no memory.memsw.limit_in_bytes; boot with swapaccount=1)');
    }
  }

  if (c.obj(r.cpu, `${path}.cpu`)) {
    const cpu = r.cpu, p = `${path}.cpu`;
    c.int(cpu.shares, `${p}.shares`, 0);
    c.int(cpu.quota, `${p}.quota`, -1);
    c.int(cpu.period, `${p}.period`, 0);
    c.int(cpu.burst, `${p}.burst`, 0);
    c.int(cpu.realtimeRuntime, `${p}.realtimeRuntime`, -1);
    c.int(cpu.realtimePeriod, `${p}.realtimePeriod`, 0);
    c.int(cpu.idle, `${p}.idle`, 0, 1);
    if (typeof cpu.period === 'number' && cpu.period !== 0 && (cpu.period < 1000 || cpu.period > 1_000_000)) {
      c.add(`${p}.period`, 'must be 1000..1000000 microseconds (sched-bwc.rst)');
    }
    if (typeof cpu.quota === 'number' && cpu.quota > 0 && cpu.quota < 1000) c.add(`${p}.quota`, 'must be at least 1000 microseconds, or -1');
    for (const k of ['cpus', 'mems']) {
      const v = cpu[k];
      if (v !== undefined && (typeof v !== 'string' || (v !== '' && !CPU_LIST.test(v)))) c.add(`${p}.${k}`, `"${String(v)}" is not a list like 0-3,5`);
    }
    for (const k of ['realtimeRuntime', 'realtimePeriod']) {
      if (v2) c.unsupported(cpu[k], `${p}.${k}`, false, 'realtime CPU limits do not exist on cgroup v2');
      else c.unsupported(cpu[k], `${p}.${k}`, support?.rtGroupSched, 'this kernel has no realtime group scheduling (CONFIG_RT_GROUP_SCHED: no cpu.rt_runtime_us)');
    }
    if (!v2) {
      c.unsupported(cpu.idle, `${p}.idle`, support?.cpuIdle, 'this kernel has no cpu.idle (Linux 5.15+)');
      c.unsupported(cpu.burst, `${p}.burst`, support?.cpuBurst, 'this kernel has no cpu.cfs_burst_us (Linux 5.14+)');
    }
    const wantsCpu = ['shares', 'quota', 'period', 'burst', 'realtimeRuntime', 'realtimePeriod', 'idle'].some((k) => cpu[k] !== undefined);
    if (wantsCpu) c.unsupported(true, p, has('cpu'), missing('cpu'));
    if (cpu.cpus || cpu.mems) c.unsupported(true, p, has('cpuset'), missing('cpuset'));
  }

  if (c.obj(r.pids, `${path}.pids`)) {
    if (r.pids.limit === undefined) c.add(`${path}.pids.limit`, 'is required');
    else c.int(r.pids.limit, `${path}.pids.limit`, -1);
    c.unsupported(true, `${path}.pids`, has('pids'), missing('pids'));
  }

  if (c.obj(r.blockIO, `${path}.blockIO`)) validateBlockIO(c, r.blockIO, `${path}.blockIO`, mode, support);

  if (c.arr(r.hugepageLimits, `${path}.hugepageLimits`)) {
    r.hugepageLimits.forEach((h, i) => {
      const p = `${path}.hugepageLimits[${i}]`;
      if (!c.obj(h, p)) return;
      if (typeof h.pageSize !== 'string' || !/^\d+[KMG]B$/.test(h.pageSize)) c.add(`${p}.pageSize`, 'must be a size like 2MB or 1GB');
      else if (support && !support.hugepageSizes.includes(h.pageSize)) {
        c.add(`${p}.pageSize`, `"${h.pageSize}" is not a huge page size of this host (it has ${support.hugepageSizes.join(', ') || 'none'})`);
      }
      if (h.limit === undefined) c.add(`${p}.limit`, 'is required');
      else c.int(h.limit, `${p}.limit`, 0);
    });
    if (r.hugepageLimits.length) c.unsupported(true, `${path}.hugepageLimits`, has('hugetlb'), missing('hugetlb'));
  }

  if (c.obj(r.network, `${path}.network`)) {
    const n = r.network, p = `${path}.network`;
    c.int(n.classID, `${p}.classID`, 0, 0xffffffff);
    if (c.arr(n.priorities, `${p}.priorities`)) {
      n.priorities.forEach((e, i) => {
        if (!c.obj(e, `${p}.priorities[${i}]`)) return;
        if (typeof e.name !== 'string' || !e.name) c.add(`${p}.priorities[${i}].name`, 'is required (an interface name)');
        c.int(e.priority, `${p}.priorities[${i}].priority`, 0);
      });
    }
    if (v2) c.add(p, 'net_cls and net_prio do not exist on cgroup v2');
    else {
      c.unsupported(n.classID, `${p}.classID`, has('net_cls'), 'the net_cls cgroup controller is not mounted on this host');
      c.unsupported(n.priorities, `${p}.priorities`, has('net_prio'), 'the net_prio cgroup controller is not mounted on this host');
    }
  }

  if (c.obj(r.rdma, `${path}.rdma`)) {
    for (const [dev, l] of Object.entries(r.rdma)) {
      const p = `${path}.rdma["${dev}"]`;
      if (!c.obj(l, p)) continue;
      c.int(l.hcaHandles, `${p}.hcaHandles`, 0);
      c.int(l.hcaObjects, `${p}.hcaObjects`, 0);
    }
    if (Object.keys(r.rdma).length) c.unsupported(true, `${path}.rdma`, has('rdma'), missing('rdma'));
  }

  if (c.obj(r.unified, `${path}.unified`)) {
    for (const [k, v] of Object.entries(r.unified)) {
      const p = `${path}.unified["${k}"]`;
      if (typeof v !== 'string') c.add(p, 'must be a string');
      // A cgroup interface file is "controller.name" in the container's own directory (cgroup-v2.rst "Conventions").
      if (!/^[a-z_]+\.[a-z0-9_.]+$/.test(k)) c.add(p, 'is not a cgroup interface file name');
    }
    if (!v2 && Object.keys(r.unified).length) c.add(`${path}.unified`, 'this host uses cgroup v1; unified (cgroup v2) settings cannot apply');
  }
  return c.problems;
}

/**
 * The one warning for the fields of `r` that are accepted and not applied, or undefined. Kernel memory limits:
 * memory.kernel is never written, as runc (since 1.0.0-rc94) ignores it on every kernel: Linux 5.16+ accepts
 * memory.kmem.limit_in_bytes and enforces nothing, and before that a cgroup that reached it could not reclaim.
 * memory.kernelTCP is written where the kernel has memory.kmem.tcp.limit_in_bytes (cgroup v1), which it still
 * enforces; elsewhere it is ignored too. CRI clients still send both, so neither fails a container.
 */
export function ignoredResources(r: unknown, path = 'linux.resources', mode: CgroupMode, support?: CgroupSupport): string | undefined {
  if (!isObj(r) || !isObj(r.memory)) return undefined;
  const fields: string[] = [];
  const why: string[] = [];
  if (r.memory.kernel !== undefined) {
    fields.push(`${path}.memory.kernel`);
    why.push('kernel memory limits are deprecated and Linux 5.16+ does not enforce them (runc ignores them too)');
  }
  if (r.memory.kernelTCP !== undefined && (mode === 'v2' || support?.kernelTCP === false)) {
    fields.push(`${path}.memory.kernelTCP`);
    why.push(mode === 'v2' ? 'cgroup v2 has no kernel TCP memory limit' : 'this kernel has no memory.kmem.tcp.limit_in_bytes');
  }
  if (!fields.length) return undefined;
  return `${fields.join(' and ')} ${fields.length > 1 ? 'are' : 'is'} ignored: ${why.join('; ')}`;
}

function validateBlockIO(c: Checker, b: Json, p: string, mode: CgroupMode, support?: CgroupSupport): void {
  const weight = (v: unknown, at: string) => {
    if (c.int(v, at) && v !== 0 && (v < 10 || v > 1000)) c.add(at, 'must be 10..1000');
  };
  weight(b.weight, `${p}.weight`);
  weight(b.leafWeight, `${p}.leafWeight`);
  const device = (d: Json, at: string) => {
    if (d.major === undefined) c.add(`${at}.major`, 'is required');
    else c.int(d.major, `${at}.major`, 0);
    if (d.minor === undefined) c.add(`${at}.minor`, 'is required');
    else c.int(d.minor, `${at}.minor`, 0);
  };
  let weights = b.weight !== undefined && b.weight !== 0;
  let leafWeights = b.leafWeight !== undefined;
  if (c.arr(b.weightDevice, `${p}.weightDevice`)) {
    b.weightDevice.forEach((d, i) => {
      const at = `${p}.weightDevice[${i}]`;
      if (!c.obj(d, at)) return;
      device(d, at);
      weight(d.weight, `${at}.weight`);
      weight(d.leafWeight, `${at}.leafWeight`);
      weights ||= d.weight !== undefined;
      leafWeights ||= d.leafWeight !== undefined;
    });
  }
  for (const key of THROTTLES) {
    if (!c.arr(b[key], `${p}.${key}`)) continue;
    (b[key] as unknown[]).forEach((d, i) => {
      const at = `${p}.${key}[${i}]`;
      if (!c.obj(d, at)) return;
      device(d, at);
      if (d.rate === undefined) c.add(`${at}.rate`, 'is required');
      else c.int(d.rate, `${at}.rate`, 0);
    });
  }
  if (mode === 'v2') {
    if (leafWeights) c.add(`${p}.leafWeight`, 'leaf weights do not exist on cgroup v2');
    if (support && Object.keys(b).length && !support.controllers.has('io')) c.add(p, 'the io cgroup controller is not available on this host');
    return;
  }
  if (!support) return;
  if (Object.keys(b).length && !support.controllers.has('blkio')) c.add(p, 'the blkio cgroup controller is not available on this host');
  else {
    c.unsupported(weights || undefined, `${p}.weight`, support.blkioWeight,
      'this host\'s block I/O schedulers have no weights (no blkio.weight or blkio.bfq.weight: the BFQ scheduler is needed)');
    c.unsupported(leafWeights || undefined, `${p}.leafWeight`, support.blkioLeafWeight, 'leaf weights existed only with the CFQ scheduler (removed in Linux 5.0)');
  }
}
