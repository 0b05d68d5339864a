// Debian's containerd for the benchmarks, on its own socket under a directory of the benchmark's, never the
// host's. `restart` stops the daemon started there last and starts a fresh one on an empty root, so that every
// timed pull starts from nothing, as skiff's do, without deleting the last run's files while others are timed.
// Usage (a hyperfine --prepare step): node dist/bench/containerd-daemon.js restart DIR
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const containerdSocket = (dir: string) => join(dir, 'containerd.sock');
const pidFile = (dir: string) => join(dir, 'containerd.pid');

/**
 * Whether `pid` still runs. A zombie does not: kill(pid, 0) succeeds on one until its parent reaps it, which a
 * benchmark blocked in spawnSync does not do while its prepare step waits (proc(5): state Z in /proc/PID/stat).
 */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Stops the daemon last started under `dir` (SIGTERM, then waits for it to go). */
export function stopContainerd(dir: string): void {
  if (!existsSync(pidFile(dir))) return;
  const pid = Number(readFileSync(pidFile(dir), 'utf8'));
  writeFileSync(pidFile(dir), '');
  if (!(pid > 0)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  while (running(pid)) spawnSync('sleep', ['0.05']);
}

/** Stops the last daemon under `dir` and starts one on a new, empty root there; returns its pid once it answers. */
export function restartContainerd(dir: string): number {
  stopContainerd(dir);
  const run = mkdtempSync(join(dir, 'run-'));
  const sock = containerdSocket(dir);
  const config = join(run, 'config.toml');
  writeFileSync(config, [
    'version = 2', `root = "${run}/root"`, `state = "${run}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]', `  address = "${sock}"`, '[ttrpc]', `  address = "${sock}.ttrpc"`,
    // The opt plugin would otherwise make /opt/containerd on the host.
    '[plugins."io.containerd.internal.v1.opt"]', `  path = "${run}/opt"`,
  ].join('\n') + '\n');
  const log = join(run, 'containerd.log');
  const out = openSync(log, 'a');
  // Detached (a session of its own): it outlives this process, and a Ctrl-C on the benchmark does not reach it
  // before the benchmark's own cleanup stops it by its pid.
  const proc = spawn('containerd', ['--config', config], { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  proc.unref();
  if (!proc.pid) throw new Error('containerd could not be started (is Debian\'s containerd installed?)');
  writeFileSync(pidFile(dir), String(proc.pid));
  for (let i = 0; i < 200; i++) {
    if (spawnSync('ctr', ['--address', sock, 'version'], { stdio: 'ignore' }).status === 0) return proc.pid;
    spawnSync('sleep', ['0.05']);
  }
  stopContainerd(dir);
  throw new Error(`containerd did not start:\n${readFileSync(log, 'utf8').slice(-2000)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, dir] = process.argv.slice(2);
  if (cmd !== 'restart' || !dir) {
    process.stderr.write('usage: containerd-daemon.js restart DIR\n');
    process.exit(2);
  }
  restartContainerd(dir);
}
