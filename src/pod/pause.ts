// A pod's pause process: the native helper's `pause` mode (PID 1 of the pod when the PID namespace is shared, reaps
// zombies, ends on SIGTERM), started in the pod's new ipc, uts (and pid) namespaces and in its pinned network
// namespace. The helper's child sets what those namespaces scope (hostname, sysctls: /proc/sys shows the
// namespaces of the process that opens it) and pins them before it executes the pause, and is moved into the pod's
// cgroup first.
import { CLONE } from '../common/linux-flags.js';
import { SkiffError } from '../common/errors.js';
import { nativeHelperPath } from '../native/binary-path.js';
import { launch } from '../native/launcher.js';
import { step, type Step } from '../native/step.js';
import type { CgroupManager } from '../cgroups/index.js';
import { cgroupJoinSteps, cgroupOpenSteps } from '../runtime/plan/create-plan.js';
import { isSameProcessAlive, processStartTime, waitProcessGone } from '../runtime/proc.js';
import type { PodShare } from './pod-types.js';

export interface PauseOptions {
  share: PodShare;
  /** The pinned network namespace to join; undefined: the host's (host network) or, with newNetwork, a new one. */
  netns?: string;
  /** A network namespace of the pause's own with only lo up (network none), pinned by the caller after. */
  newNetwork: boolean;
  hostname?: string;
  sysctls: Record<string, string>;
  /** Its cgroup, which it joins before it runs. */
  cgroup: CgroupManager;
  /**
   * Steps in the helper's first phase, in the host's mount namespace: the pin directory made shared
   * (NetnsStore.sharedDirSteps), the pod's /dev/shm mounted (shmMountSteps). One launch instead of one each.
   */
  hostSteps?: Step[];
  /** The pins of the pause's own namespaces, made in the pause before it runs (NetnsStore.pinStep of its /proc/self/ns/TYPE files). */
  pinSteps?: Step[];
}

export interface PauseProcess {
  pid: number;
  startTime: string;
}

/** `cgroupSelfJoin`: the pause moves itself into its cgroup (CgroupManager.selfJoinFiles). */
export function pausePlan(o: Omit<PauseOptions, 'cgroup'>, helper: string, cgroupSelfJoin?: string[]): Step[] {
  let flags = 0;
  if (o.share.ipc) flags |= CLONE.NEWIPC;
  if (o.share.uts) flags |= CLONE.NEWUTS;
  if (o.share.pid) flags |= CLONE.NEWPID;
  if (o.newNetwork) flags |= CLONE.NEWNET;
  const plan: Step[] = [...cgroupOpenSteps(cgroupSelfJoin), ...(o.hostSteps ?? [])];
  if (o.netns) plan.push(step('setns', [o.netns, CLONE.NEWNET], 'network', `join the network namespace ${o.netns}`));
  plan.push(step('clone', [flags, 'exit'], 'share', 'create the pause process'));
  plan.push(...cgroupJoinSteps(cgroupSelfJoin));
  plan.push(step('setsid', [], undefined, 'start a session'));
  if (o.newNetwork) plan.push(step('loopback-up', [], 'network', 'bring lo up'));
  // The pause's mount namespace is the host's, and /proc/self is the pause as the host's procfs sees it.
  plan.push(...(o.pinSteps ?? []));
  if (o.share.uts && o.hostname) plan.push(step('hostname', [o.hostname], 'hostname', `set hostname ${o.hostname}`));
  for (const [key, value] of Object.entries(o.sysctls)) {
    plan.push(step('write', [`/proc/sys/${key.replace(/\./g, '/')}`, value], `sysctls.${key}`, `set sysctl ${key}=${value}`));
  }
  plan.push(
    step('close-fds', [3], undefined, 'mark inherited fds close-on-exec'),
    step('chdir', ['/'], undefined, 'chdir to /'),
    step('resolve-exec', [helper, ''], undefined, `find ${helper}`),
    step('ready'),
    step('exec', [2, helper, 'pause', 0], undefined, 'exec the pause'),
  );
  return plan;
}

export async function startPause(o: PauseOptions): Promise<PauseProcess> {
  const helper = nativeHelperPath();
  const selfJoin = o.cgroup.selfJoinFiles();
  let pid = 0;
  try {
    const launched = await launch({
      plan: pausePlan(o, helper, selfJoin),
      // Nothing of ours: a pause holding our stdout would keep a caller reading it waiting for ever.
      stdio: ['ignore', 'ignore', 'ignore'],
      onPid: async (p) => {
        pid = p;
        if (!selfJoin) await o.cgroup.addProcess(p);
        return { state: '' };
      },
    });
    pid = launched.pid;
  } catch (err) {
    throw new SkiffError(`pause: ${(err as Error).message}`, (err as SkiffError).code);
  }
  const startTime = await processStartTime(pid);
  if (!startTime) throw new SkiffError(`pause: process ${pid} ended as it started`, 'ESRCH');
  return { pid, startTime };
}

/** SIGTERM (the pause exits 0), SIGKILL after `timeoutMs`; only this very process (pid and start time). */
export async function stopPause(p: PauseProcess, timeoutMs = 5000): Promise<void> {
  if (!(await isSameProcessAlive(p.pid, p.startTime))) return;
  signalOnly(p.pid, 'SIGTERM');
  if (await waitProcessGone(p.pid, p.startTime, timeoutMs)) return;
  if (await isSameProcessAlive(p.pid, p.startTime)) signalOnly(p.pid, 'SIGKILL');
  if (!(await waitProcessGone(p.pid, p.startTime, 5000))) throw new SkiffError(`pause process ${p.pid} did not end after SIGKILL`, 'EBUSY');
}

export function signalOnly(pid: number, signal: NodeJS.Signals | number): void {
  if (pid <= 1) return;
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
