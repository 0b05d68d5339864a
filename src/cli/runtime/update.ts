// skiff-runtime update: change a running container's resource limits (runc update flags, or -r resources.json).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { runtimeFor } from './context.js';

const SIZE = /^(-?\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i;

/** runc accepts sizes like 512m, 1g, 1024 (docker's RAMInBytes: binary units) and -1 for unlimited. */
export function parseBytes(flag: string, value: string): number {
  const m = SIZE.exec(value.trim());
  if (!m) throw new SkiffError(`${flag}: "${value}" is not a size (e.g. 512m, 1g, -1)`, 'EINVAL');
  const n = Number(m[1]);
  if (n === -1) return -1;
  const mult = 1024 ** 'bkmgtp'.indexOf((m[2] || 'b').toLowerCase());
  return Math.floor(n * mult);
}

function int(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new SkiffError(`${flag}: "${value}" is not an integer`, 'EINVAL');
  return Number(value);
}

interface UpdateFlags {
  resources?: string;
  blkioWeight?: string; cpuPeriod?: string; cpuQuota?: string; cpuRtPeriod?: string; cpuRtRuntime?: string;
  cpuShare?: string; cpusetCpus?: string; cpusetMems?: string; kernelMemory?: string; kernelMemoryTcp?: string;
  memory?: string; memoryReservation?: string; memorySwap?: string; pidsLimit?: string;
  l3CacheSchema?: string; memBwSchema?: string;
}

export function register(program: Command): void {
  program.command('update')
    .description('update container resource constraints')
    .argument('<container-id>')
    .option('-r, --resources <file>', 'path to a runtime-spec LinuxResources JSON file, or - for stdin')
    .option('--blkio-weight <n>', 'block IO weight (10..1000)')
    .option('--cpu-period <us>', 'CPU CFS period')
    .option('--cpu-quota <us>', 'CPU CFS quota')
    .option('--cpu-rt-period <us>', 'CPU realtime period')
    .option('--cpu-rt-runtime <us>', 'CPU realtime runtime')
    .option('--cpu-share <n>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <list>', 'CPUs to allow (0-3, 0,1)')
    .option('--cpuset-mems <list>', 'memory nodes to allow')
    .option('--kernel-memory <size>', 'kernel memory limit (deprecated)')
    .option('--kernel-memory-tcp <size>', 'kernel TCP buffer limit (deprecated)')
    .option('--memory <size>', 'memory limit')
    .option('--memory-reservation <size>', 'memory soft limit')
    .option('--memory-swap <size>', 'total memory plus swap limit')
    .option('--pids-limit <n>', 'maximum number of pids')
    .option('--l3-cache-schema <schema>', 'Intel RDT L3 cache schema')
    .option('--mem-bw-schema <schema>', 'Intel RDT memory bandwidth schema')
    .action(async (id: string, o: UpdateFlags, cmd: Command) => {
      await runtimeFor(cmd).update(id, o.resources ? await readResources(o.resources) : flagsToResources(o));
    });
}

async function readResources(path: string): Promise<LinuxResources> {
  try {
    const text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
    return JSON.parse(text) as LinuxResources;
  } catch (err) {
    throw new SkiffError(`--resources ${path}: ${(err as Error).message}`, 'EINVAL');
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function flagsToResources(o: UpdateFlags): LinuxResources {
  if (o.l3CacheSchema || o.memBwSchema) {
    throw new SkiffError('--l3-cache-schema/--mem-bw-schema: Intel RDT (resctrl) is not available on this host', 'ENOTSUP');
  }
  const r: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (o.memory !== undefined) memory.limit = parseBytes('--memory', o.memory);
  if (o.memoryReservation !== undefined) memory.reservation = parseBytes('--memory-reservation', o.memoryReservation);
  if (o.memorySwap !== undefined) memory.swap = parseBytes('--memory-swap', o.memorySwap);
  if (o.kernelMemory !== undefined) memory.kernel = parseBytes('--kernel-memory', o.kernelMemory);
  if (o.kernelMemoryTcp !== undefined) memory.kernelTCP = parseBytes('--kernel-memory-tcp', o.kernelMemoryTcp);
  if (Object.keys(memory).length) r.memory = memory;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (o.cpuShare !== undefined) cpu.shares = int('--cpu-share', o.cpuShare);
  if (o.cpuQuota !== undefined) cpu.quota = int('--cpu-quota', o.cpuQuota);
  if (o.cpuPeriod !== undefined) cpu.period = int('--cpu-period', o.cpuPeriod);
  if (o.cpuRtRuntime !== undefined) cpu.realtimeRuntime = int('--cpu-rt-runtime', o.cpuRtRuntime);
  if (o.cpuRtPeriod !== undefined) cpu.realtimePeriod = int('--cpu-rt-period', o.cpuRtPeriod);
  if (o.cpusetCpus !== undefined) cpu.cpus = o.cpusetCpus;
  if (o.cpusetMems !== undefined) cpu.mems = o.cpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (o.pidsLimit !== undefined) r.pids = { limit: int('--pids-limit', o.pidsLimit) };
  if (o.blkioWeight !== undefined) r.blockIO = { weight: int('--blkio-weight', o.blkioWeight) };
  if (Object.keys(r).length === 0) throw new SkiffError('update: no resource given (use flags or -r FILE)', 'EINVAL');
  return r;
}
