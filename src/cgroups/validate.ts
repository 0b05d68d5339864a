// Checks linux.resources before anything is created: types and ranges, and what this host's cgroup mode cannot do.
import type { Problem } from '../common/errors.js';
import type { CgroupMode } from './types.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateResources(r: unknown, path: string, mode: CgroupMode): Problem[] {
  const problems: Problem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  const int = (v: unknown, p: string, min = -Infinity) => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v)) add(p, 'must be an integer');
    else if (v < min) add(p, `must be at least ${min}`);
  };
  if (!isObj(r)) return [{ path, message: 'must be an object' }];
  if (r.devices !== undefined) {
    if (!Array.isArray(r.devices)) add(`${path}.devices`, 'must be an array');
    else r.devices.forEach((d, i) => {
      const p = `${path}.devices[${i}]`;
      if (!isObj(d)) return add(p, 'must be an object');
      if (typeof d.allow !== 'boolean') add(`${p}.allow`, 'is required (true or false)');
      if (d.type !== undefined && !['a', 'c', 'b'].includes(d.type as string)) add(`${p}.type`, `must be a, c or b, not "${String(d.type)}"`);
      if (d.access !== undefined && (typeof d.access !== 'string' || !/^[rwm]+$/.test(d.access))) add(`${p}.access`, 'must be a combination of r, w, m');
      if (d.major !== undefined && d.major !== null) int(d.major, `${p}.major`, -1);
      if (d.minor !== undefined && d.minor !== null) int(d.minor, `${p}.minor`, -1);
    });
  }
  if (r.memory !== undefined) {
    if (!isObj(r.memory)) add(`${path}.memory`, 'must be an object');
    else {
      for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) int(r.memory[k], `${path}.memory.${k}`, -1);
      int(r.memory.swappiness, `${path}.memory.swappiness`, 0);
      if (typeof r.memory.swappiness === 'number' && r.memory.swappiness > 100) add(`${path}.memory.swappiness`, 'must be 0..100');
      const { limit, swap } = r.memory as { limit?: number; swap?: number };
      if (typeof limit === 'number' && typeof swap === 'number' && limit > 0 && swap > 0 && swap < limit) {
        add(`${path}.memory.swap`, `memory+swap ${swap} is below the memory limit ${limit}`);
      }
      if (mode === 'v2') {
        if (r.memory.kernel !== undefined || r.memory.kernelTCP !== undefined) add(`${path}.memory.kernel`, 'kernel memory limits do not exist on cgroup v2');
        if (r.memory.swappiness !== undefined) add(`${path}.memory.swappiness`, 'per-cgroup swappiness does not exist on cgroup v2');
        if (r.memory.disableOOMKiller === true) add(`${path}.memory.disableOOMKiller`, 'cgroup v2 cannot disable the OOM killer');
      }
    }
  }
  if (r.cpu !== undefined) {
    if (!isObj(r.cpu)) add(`${path}.cpu`, 'must be an object');
    else {
      int(r.cpu.shares, `${path}.cpu.shares`, 0);
      int(r.cpu.quota, `${path}.cpu.quota`, -1);
      int(r.cpu.period, `${path}.cpu.period`, 0);
      int(r.cpu.burst, `${path}.cpu.burst`, 0);
      int(r.cpu.realtimeRuntime, `${path}.cpu.realtimeRuntime`, -1);
      int(r.cpu.realtimePeriod, `${path}.cpu.realtimePeriod`, 0);
      for (const k of ['cpus', 'mems']) {
        const v = r.cpu[k];
        if (v !== undefined && (typeof v !== 'string' || !/^(\d+(-\d+)?)(,\d+(-\d+)?)*$/.test(v))) add(`${path}.cpu.${k}`, `"${String(v)}" is not a list like 0-3,5`);
      }
      if (mode === 'v2' && (r.cpu.realtimeRuntime !== undefined || r.cpu.realtimePeriod !== undefined)) add(`${path}.cpu.realtimeRuntime`, 'realtime CPU limits do not exist on cgroup v2');
    }
  }
  if (r.pids !== undefined) {
    if (!isObj(r.pids)) add(`${path}.pids`, 'must be an object');
    else if (r.pids.limit === undefined) add(`${path}.pids.limit`, 'is required');
    else int(r.pids.limit, `${path}.pids.limit`, -1);
  }
  if (r.blockIO !== undefined && isObj(r.blockIO)) {
    const w = r.blockIO.weight;
    if (w !== undefined && (typeof w !== 'number' || (w !== 0 && (w < 10 || w > 1000)))) add(`${path}.blockIO.weight`, 'must be 10..1000');
  }
  if (r.hugepageLimits !== undefined && Array.isArray(r.hugepageLimits) && r.hugepageLimits.length && mode === 'hybrid') {
    add(`${path}.hugepageLimits`, 'the hugetlb controller is not a cgroup v1 hierarchy on this host (it sits on the hybrid cgroup2 mount, which skiff does not manage)');
  }
  if (r.network !== undefined && mode === 'v2') add(`${path}.network`, 'net_cls/net_prio do not exist on cgroup v2');
  if (r.unified !== undefined && isObj(r.unified) && Object.keys(r.unified).length && mode !== 'v2') {
    add(`${path}.unified`, 'this host uses cgroup v1; unified (v2) settings cannot apply');
  }
  return problems;
}
