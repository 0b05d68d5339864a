// skiff's container commands side by side with podman's (hyperfine medians and ratios, one run): run --rm true
// with no network and on the default bridge, run -d + stop + rm, exec into a running container, ps -a with 50
// containers, logs of 100k lines; and the private memory of a running container's monitor beside conmon's.
// Both use the same busybox image (skiff's default, loaded into podman), their own stores in a temp dir, cgroupfs.
// Run as root after scripts/setup.sh:  node dist/bench/engine.js [RUNS]
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { besidePodman, IMAGE } from './beside-podman.js';

const RUNS = Number(process.argv[2] ?? 15);
const { work, skiff, podman, env, sh, hyperfine: timed, removePodmanCgroups } = besidePodman('skiff-bench-engine-');
const hyperfine = (name: string, commands: Record<string, string>, runs = RUNS, extra: string[] = []) => timed(name, commands, runs, extra);

/** Private memory of a process (Private_Clean + Private_Dirty, smaps_rollup), KiB. */
function privateKib(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return field('Private_Clean') + field('Private_Dirty');
}

const rows: [string, Map<string, number>][] = [];
try {
  sh(`${skiff} image inspect ${IMAGE} >/dev/null && ${skiff} save -o ${work}/bb.tar ${IMAGE} && ${podman} load -q -i ${work}/bb.tar >/dev/null`);
  const both = (s: string, p: string) => ({ skiff: `${skiff} ${s}`, podman: `${podman} ${p}` });
  rows.push(['run --rm true (--network none)', hyperfine('run-none', both(`run --rm --network none ${IMAGE} true`, `run --rm --network none ${IMAGE} true`))]);
  rows.push(['run --rm true (bridge)', hyperfine('run-bridge', both(`run --rm ${IMAGE} true`, `run --rm ${IMAGE} true`))]);
  rows.push(['run -d + stop + rm', hyperfine('detached', {
    skiff: `id=$(${skiff} run -d --network none ${IMAGE} sleep 100) && ${skiff} stop -t 0 $id >/dev/null && ${skiff} rm $id >/dev/null`,
    podman: `id=$(${podman} run -d --network none ${IMAGE} sleep 100) && ${podman} stop -t 0 $id >/dev/null && ${podman} rm $id >/dev/null`,
  })]);

  sh(`${skiff} run -d --name target --network none ${IMAGE} sleep 1000 >/dev/null && ${podman} run -d --name target --network none ${IMAGE} sleep 1000 >/dev/null`);
  rows.push(['exec true', hyperfine('exec', both('exec target true', 'exec target true'))]);

  const targetId = sh(`${skiff} ps -q --no-trunc --filter name=target`).trim();
  const skiffMonitor = JSON.parse(readFileSync(join(work, 'skiff-root/containers', targetId, 'container.json'), 'utf8')).state.monitor.pid as number;
  const conmon = sh('pgrep -x conmon').trim().split('\n').map(Number)
    .find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(work))!;
  const memory = { skiff: privateKib(skiffMonitor), podman: privateKib(conmon) };

  sh(`for i in $(seq 49); do ${skiff} create --network none ${IMAGE} true >/dev/null; ${podman} create --network none ${IMAGE} true >/dev/null; done`);
  rows.push(['ps -a (50 containers)', hyperfine('ps', both('ps -a', 'ps -a'))]);

  sh(`${skiff} run --name chatty --network none ${IMAGE} sh -c 'seq 100000' >/dev/null && ${podman} run --name chatty --network none ${IMAGE} sh -c 'seq 100000' >/dev/null`);
  rows.push(['logs (100k lines)', hyperfine('logs', both('logs chatty', 'logs chatty'))]);

  const f = (x: number) => x.toFixed(1).padStart(10);
  console.log(`${RUNS} runs each, medians in ms (load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`);
  console.log(`${'operation'.padEnd(32)}${'skiff'.padStart(10)}${'podman'.padStart(10)}  skiff/podman`);
  for (const [label, m] of rows) console.log(`${label.padEnd(32)}${f(m.get('skiff')!)}${f(m.get('podman')!)}${(m.get('skiff')! / m.get('podman')!).toFixed(2).padStart(14)}`);
  console.log(`\nprivate memory of a running container's monitor: skiff ${memory.skiff} KiB, conmon ${memory.podman} KiB (ratio ${(memory.skiff / memory.podman).toFixed(2)})`);
} finally {
  spawnSync('sh', ['-c', `${skiff} rm -f $(${skiff} ps -aq) >/dev/null 2>&1; ${podman} rm -af >/dev/null 2>&1; ${podman} rmi -af >/dev/null 2>&1`], { env });
  removePodmanCgroups();
  rmSync(work, { recursive: true, force: true });
}
