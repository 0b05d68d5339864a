// The runtime spec's resources are cgroup v1 values; cgroup v2 files take other units. These follow runc's
// conversions (opencontainers/cgroups utils.go) so a config means the same under skiff as under runc.
import { SkiffError } from '../common/errors.js';

/**
 * cpu.shares [2, 262144] -> cpu.weight [1, 10000]: the quadratic in log2(shares) runc uses since runc#4785, which
 * keeps the defaults aligned (1024 -> 100) where the older linear formula gave 39. 0 means "not set".
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]. 0 means "not set". */
export function blkioToIoWeight(weight: number): number {
  return weight === 0 ? 0 : 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * The spec's memory.swap is memory+swap (v1 memory.memsw.limit_in_bytes); v2's memory.swap.max is swap alone.
 * Returns the memory.swap.max value, or undefined when nothing is to be written (swap 0 is "not set").
 * `limit` is the memory limit in force after this change (-1 unlimited, undefined none).
 */
export function swapMaxValue(swap: number | undefined, limit: number | undefined): string | undefined {
  // As runc: an unlimited memory limit with swap unset lifts the swap limit too.
  if (limit === -1 && (swap === undefined || swap === 0)) return 'max';
  if (swap === undefined || swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === undefined || limit === 0) {
    throw new SkiffError('linux.resources.memory.swap: a swap limit needs memory.limit (swap is memory+swap)', 'EINVAL');
  }
  if (limit === -1) return String(swap);
  if (swap < limit) throw new SkiffError(`linux.resources.memory.swap: ${swap} (memory+swap) is below memory.limit ${limit}`, 'EINVAL');
  return String(swap - limit);
}

/** A v2 "max"-or-number file value from a spec number where negative means unlimited. */
export function maxOrNumber(n: number): string {
  return n < 0 ? 'max' : String(n);
}

/**
 * cpu.max "$QUOTA $PERIOD": quota <= 0 means no limit (runc writes "max"); a missing half keeps the current one.
 */
export function cpuMaxValue(quota: number | undefined, period: number | undefined, current: string): string {
  const [curQuota, curPeriod] = current.trim().split(/\s+/);
  const q = quota === undefined ? curQuota : quota > 0 ? String(quota) : 'max';
  return `${q} ${period ?? curPeriod}`;
}

/** pids.limit: runtime-spec says 0 or less is unlimited. */
export function pidsMaxValue(limit: number): string {
  return limit > 0 ? String(limit) : 'max';
}
