// skiff's pods side by side with podman's (hyperfine medians and ratios, one run): pod create + run one container
// in it + pod stop + pod rm, and kube play + kube down of a two-container pod, both on each one's default bridge;
// then the memory a running pod with one container costs beyond the container's own processes (skiff: the pause
// and the container's monitor; podman: the infra container's catatonit and conmon, and the container's conmon),
// as Pss and Private (Private_Clean + Private_Dirty) from /proc/PID/smaps_rollup.
// Both use the same busybox image (skiff's default, loaded into podman), their own stores in a temp dir, cgroupfs,
// runc for podman (crun refuses the hybrid cgroup layout).
// Run as root after scripts/setup.sh:  node dist/bench/pods.js [RUNS]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { besidePodman, IMAGE } from './beside-podman.js';

const RUNS = Number(process.argv[2] ?? 10);
const { work, skiff, podman, env, sh, hyperfine: timed, removePodmanCgroups } = besidePodman('skiff-bench-pods-');
const hyperfine = (name: string, commands: Record<string, string>, runs = RUNS, extra: string[] = []) => timed(name, commands, runs, extra);

interface Memory {
  pss: number;
  priv: number;
}

/** Pss and private memory of processes, KiB (smaps_rollup). */
function memoryOf(pids: number[]): Memory {
  let pss = 0;
  let priv = 0;
  for (const pid of pids) {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    pss += field('Pss');
    priv += field('Private_Clean') + field('Private_Dirty');
  }
  return { pss, priv };
}

const procs = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);
const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};
const exe = (pid: number) => {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
};

const KUBE = `apiVersion: v1
kind: Pod
metadata: { name: bench }
spec:
  containers:
    - { name: a, image: ${IMAGE}, command: [sleep, "100"] }
    - { name: b, image: ${IMAGE}, command: [sleep, "100"] }
`;

const rows: [string, Map<string, number>][] = [];
try {
  sh(`${skiff} image inspect ${IMAGE} >/dev/null && ${skiff} save -o ${work}/bb.tar ${IMAGE} && ${podman} load -q -i ${work}/bb.tar >/dev/null`);
  writeFileSync(join(work, 'pod.yaml'), KUBE);
  rows.push(['pod create+run+stop+rm', hyperfine('pod-cycle', {
    skiff: `p=$(${skiff} pod create) && ${skiff} run -d --pod $p ${IMAGE} sleep 100 >/dev/null && ${skiff} pod stop -t 0 $p >/dev/null && ${skiff} pod rm $p >/dev/null`,
    podman: `p=$(${podman} pod create) && ${podman} run -d --pod $p ${IMAGE} sleep 100 >/dev/null && ${podman} pod stop -t 0 $p >/dev/null && ${podman} pod rm $p >/dev/null`,
  })]);
  rows.push(['kube play + down (2 ctrs)', hyperfine('kube', {
    skiff: `${skiff} kube play ${work}/pod.yaml >/dev/null && ${skiff} kube down ${work}/pod.yaml >/dev/null`,
    podman: `${podman} kube play ${work}/pod.yaml >/dev/null && ${podman} kube down ${work}/pod.yaml >/dev/null`,
  })]);

  // One running pod with one container each, for the memory figures.
  sh(`${skiff} pod create --name mem >/dev/null && ${skiff} run -d --pod mem --name memc ${IMAGE} sleep 1000 >/dev/null`);
  sh(`${podman} pod create --name mem >/dev/null && ${podman} run -d --pod mem --name memc ${IMAGE} sleep 1000 >/dev/null`);
  const pod = JSON.parse(sh(`${skiff} pod inspect mem`))[0] as { pausePid: number; containers: string[] };
  const rec = JSON.parse(readFileSync(join(work, 'skiff-root/containers', pod.containers[0], 'container.json'), 'utf8'));
  const skiffPids = [pod.pausePid, rec.state.monitor.pid as number];
  const podId = sh(`${podman} pod inspect mem --format '{{.ID}}'`).trim();
  const infraId = sh(`${podman} pod inspect mem --format '{{.InfraContainerID}}'`).trim();
  const ctrId = sh(`${podman} inspect memc --format '{{.Id}}'`).trim();
  const conmons = procs().filter((p) => exe(p).endsWith('/conmon') && [infraId, ctrId].some((id) => cmdline(p).includes(id)));
  const infraPid = Number(sh(`${podman} inspect ${infraId} --format '{{.State.Pid}}'`).trim());
  const podmanPids = [...conmons, infraPid];
  if (podmanPids.length !== 3 || !podId) throw new Error(`podman's pod processes not found: ${podmanPids.join(' ')}`);
  const mem = { skiff: memoryOf(skiffPids), podman: memoryOf(podmanPids) };

  const f = (x: number) => x.toFixed(1).padStart(10);
  console.log(`${RUNS} runs each, medians in ms (load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`);
  console.log(`${'operation'.padEnd(30)}${'skiff'.padStart(10)}${'podman'.padStart(10)}  skiff/podman`);
  for (const [label, m] of rows) console.log(`${label.padEnd(30)}${f(m.get('skiff')!)}${f(m.get('podman')!)}${(m.get('skiff')! / m.get('podman')!).toFixed(2).padStart(14)}`);
  console.log('\nmemory per running pod with one container, beyond the container\'s own processes (KiB):');
  console.log(`  skiff  (pause + monitor):                       Pss ${mem.skiff.pss}, Private ${mem.skiff.priv}`);
  console.log(`  podman (infra catatonit + 2 conmon):            Pss ${mem.podman.pss}, Private ${mem.podman.priv}`);
  console.log(`  skiff/podman: Pss ${(mem.skiff.pss / mem.podman.pss).toFixed(2)}, Private ${(mem.skiff.priv / mem.podman.priv).toFixed(2)}`);
  const pause = memoryOf([pod.pausePid]);
  console.log(`  skiff's pause alone: Pss ${pause.pss}, Private ${pause.priv}`);
} finally {
  spawnSync('sh', ['-c', `for p in $(${skiff} pod ps -q --no-trunc); do ${skiff} pod rm -f $p; done >/dev/null 2>&1; ${podman} pod rm -af >/dev/null 2>&1; ${podman} rm -af >/dev/null 2>&1; ${podman} rmi -af >/dev/null 2>&1`], { env });
  removePodmanCgroups();
  rmSync(work, { recursive: true, force: true });
}
