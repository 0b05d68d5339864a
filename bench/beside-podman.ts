// What the benchmarks of skiff beside podman share: a temporary directory with a store for each, podman set up as
// this machine allows, a shell runner with podman's environment, and hyperfine's medians (ms) by command name.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupsBelow, removeEmptyCgroups } from '../test/helpers/foreign-cgroups.js';

export const IMAGE = 'localhost/busybox:latest';

export interface BesidePodman {
  work: string;
  /** skiff on its own store in `work`. */
  skiff: string;
  /** podman on its own store in `work` (with `env`). */
  podman: string;
  env: NodeJS.ProcessEnv;
  /** Runs a shell line with podman's environment; its stdout. */
  sh(cmd: string): string;
  /** hyperfine's median of each named command, ms. */
  hyperfine(name: string, commands: Record<string, string>, runs: number, extra?: string[]): Map<string, number>;
  /** After podman's containers are removed: the empty cgroups its runc left for the ones this run made. */
  removePodmanCgroups(): void;
}

export function besidePodman(prefix: string): BesidePodman {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const skiffBin = new URL('../bin/skiff.cjs', import.meta.url).pathname;
  // podman here: runc (crun refuses the hybrid cgroup layout), limits within this machine's hard rlimits (no
  // CAP_SYS_RESOURCE: podman's default nofile/nproc would fail), file events, cgroupfs.
  const conf = join(work, 'containers.conf');
  writeFileSync(conf, [
    '[containers]', 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    '[engine]', 'runtime = "runc"', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', '',
  ].join('\n'));
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const cgroupsBefore = new Set(cgroupsBelow('libpod_parent'));
  return {
    work, env,
    // As a user runs it: a program, through its #! line.
    skiff: `${skiffBin} --root ${work}/skiff-root --state ${work}/skiff-state`,
    podman: `podman --root ${work}/podman-root --runroot ${work}/podman-run`,
    sh: (cmd) => execFileSync('sh', ['-c', cmd], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
    hyperfine(name, commands, runs, extra = []) {
      const out = join(work, `${name}.json`);
      const args = ['--style', 'none', '--warmup', '2', '--runs', String(runs), '--export-json', out, ...extra];
      for (const [label, cmd] of Object.entries(commands)) args.push('-n', label, cmd);
      const r = spawnSync('hyperfine', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) throw new Error(`hyperfine ${name} failed`);
      const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: { command: string; median: number }[] }).results;
      return new Map(results.map((x) => [x.command, x.median * 1000]));
    },
    removePodmanCgroups() {
      // podman's runc removes a container's cgroups from the controllers' hierarchies but leaves them in the
      // name=systemd and cgroup2 ones; conmon's stays under /libpod_parent/conmon.
      removeEmptyCgroups([...cgroupsBelow('libpod_parent').filter((p) => !cgroupsBefore.has(p)), 'libpod_parent/conmon', 'libpod_parent']);
    },
  };
}
