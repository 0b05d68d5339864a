// The `skiff` CLI on a store of the test's own (a temp root and state), run as a user would, and a snapshot of
// what a container can leave on the host (mounts, cgroups, network namespaces, veths, iptables rules, monitor
// processes) to compare before and after.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnCollecting, type ChildResult } from './async-child.js';

export const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));

export interface SkiffStore {
  dir: string;
  root: string;
  state: string;
  args(...args: string[]): string[];
  /** Runs skiff and waits (blocking). */
  run(...args: string[]): ChildResult;
  /** Runs skiff without blocking this process. */
  start(...args: string[]): { pid: number; done: Promise<ChildResult> };
  /** Removes every container (rm -f), then the directory. */
  cleanup(): void;
  /**
   * Every container ID this store has had (its directories, looked at around each command), so a snapshot can tell
   * this store's cgroups and rules from those of other stores on the host.
   */
  seen: Set<string>;
}

export function skiffStore(prefix = 'skiff-engine-'): SkiffStore {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const args = (...a: string[]) => [skiffBin, '--root', root, '--state', state, ...a];
  const seen = new Set<string>();
  const look = () => {
    const containers = join(root, 'containers');
    if (existsSync(containers)) for (const d of readdirSync(containers)) if (/^[0-9a-f]{64}/.test(d)) seen.add(d.slice(0, 64));
  };
  const run = (...a: string[]) => {
    look();
    const r = spawnSync(process.execPath, args(...a), { encoding: 'utf8' });
    look();
    for (const id of r.stdout?.match(/\b[0-9a-f]{64}\b/g) ?? []) seen.add(id);
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const start = (...a: string[]) => {
    look();
    const child = spawnCollecting(process.execPath, args(...a));
    return { pid: child.pid, done: child.done.finally(look) };
  };
  return {
    dir, root, state, args, run, start, seen,
    cleanup() {
      const ids = run('ps', '-aq', '--no-trunc').out.split('\n').filter(Boolean);
      if (ids.length) run('rm', '-f', '-v', ...ids);
      run('volume', 'prune', '-f', '-a');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HostSnapshot {
  mounts: string[];
  cgroups: string[];
  netns: string[];
  veths: string[];
  iptables: string[];
  monitors: number[];
}

function cgroupsUnder(dir: string, depth = 0): string[] {
  if (depth > 4 || !existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    out.push(join(dir, e.name), ...cgroupsUnder(join(dir, e.name), depth + 1));
  }
  return out;
}

/** What the store's containers may leave on the host (cgroups and rules: only those of the store's containers). */
export function hostSnapshot(store: SkiffStore): HostSnapshot {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(store.dir));
  const ours = (line: string) => [...store.seen].some((id) => line.includes(id));
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((h) => cgroupsUnder(join('/sys/fs/cgroup', h, 'skiff'))).filter(ours);
  const netns = existsSync(join(store.state, 'netns')) ? readdirSync(join(store.state, 'netns')) : [];
  const veths = execFileSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split(':')[1].trim());
  // portmap's and the bridge plugin's per-container chains and rules; the shared top-level chains stay by design.
  const iptables = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => /CNI-(DN|SN|[0-9a-f]{24})/.test(l) && ours(l));
  // The native helper runs from a sealed memfd; a monitor of this store holds its log file open.
  const monitors = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      if (!readlinkSync(`/proc/${pid}/exe`).startsWith('/memfd:skiff-init')) return false;
      return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(store.dir));
    } catch {
      return false;
    }
  });
  return { mounts, cgroups, netns, veths, iptables, monitors };
}
