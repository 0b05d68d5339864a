// A pod's sandbox, what its containers join: the pod cgroup (pod-level limits) with the pause in a cgroup of its own
// under it, the network namespace pinned and attached with CNI (K8S_POD_* CNI_ARGS, ports through portmap), the
// pause process in new ipc, uts (and pid) namespaces, those namespaces pinned so that teardown finds them even after
// the pause is gone, the /dev/shm tmpfs and the hosts files. Start registers an undo for each step; teardown works
// from fixed paths, the CNI result cache and the pause's cgroup alone, so it also cleans what a killed start left.
import { existsSync } from 'node:fs';
import { SkiffError } from '../common/errors.js';
import { UndoStack } from '../common/undo.js';
import { cgroupManager, type CgroupManager } from '../cgroups/index.js';
import type { LinuxResources } from '../oci/runtime-spec.js';
import { isSameProcessAlive, waitProcessGone, processStartTime } from '../runtime/proc.js';
import { defaultContainerConfig } from '../engine/container-config.js';
import { connectContainer, disconnectContainer, networkName, publishedPorts } from '../engine/container-network.js';
import type { Attachment } from '../network/cni/client.js';
import type { Step } from '../native/step.js';
import { unmountEach } from '../native/unmount.js';
import { signalOnly, startPause, stopPause, type PauseProcess } from './pause.js';
import type { PodContext } from './pod-context.js';
import { podHostname, writePodFiles } from './pod-files.js';
import { removeShmDir, shmMountSteps, shmUnmountTarget, unmountShm } from './pod-shm.js';
import type { PodRecord, SandboxState } from './pod-types.js';

/** The namespaces pinned from the pause, beside the network one. */
export const PINNED_TYPES = ['ipc', 'uts', 'pid'] as const;
const CPU_PERIOD = 100_000;

export function nsPinName(id: string, type: string): string {
  return `${id}-${type}`;
}

async function cgroups(pc: PodContext, rec: PodRecord): Promise<{ pod: CgroupManager; pause: CgroupManager }> {
  const facts = { mode: (await pc.ctx.runtime.host()).cgroupMode, warn: pc.ctx.warn };
  return { pod: cgroupManager(rec.config.cgroupParent, facts), pause: cgroupManager(`${rec.config.cgroupParent}/${rec.id}`, facts) };
}

function podResources(rec: PodRecord): LinuxResources {
  const r = rec.config.resources;
  return {
    ...(r.memory ? { memory: { limit: r.memory } } : {}),
    ...(r.nanoCpus ? { cpu: { quota: Math.round((r.nanoCpus / 1e9) * CPU_PERIOD), period: CPU_PERIOD } } : {}),
    ...(r.pidsLimit && r.pidsLimit > 0 ? { pids: { limit: r.pidsLimit } } : {}),
  };
}

export async function pauseAlive(rec: PodRecord): Promise<boolean> {
  const p = rec.sandbox?.pause;
  return p !== undefined && isSameProcessAlive(p.pid, p.startTime);
}

/** Whether anything of a sandbox is there: a pod that is not running must have none of it. */
export async function sandboxLeftovers(pc: PodContext, rec: PodRecord): Promise<boolean> {
  if (rec.sandbox || rec.attaching) return true;
  if (existsSync(pc.network().netns.path(rec.id)) || existsSync(pc.paths.shm(rec.id))) return true;
  if (PINNED_TYPES.some((t) => existsSync(pc.nsPins.path(nsPinName(rec.id, t))))) return true;
  if ((await pc.network().networks.client.cache.list({ containerId: rec.id })).length) return true;
  return (await (await cgroups(pc, rec)).pause.pids()).length > 0;
}

/** Starts the sandbox of a pod that has none (the caller holds the pod's lock and took down any leftovers). */
export async function startSandbox(pc: PodContext, rec: PodRecord): Promise<SandboxState> {
  const cfg = rec.config;
  const undo = new UndoStack();
  try {
    const cg = await cgroups(pc, rec);
    const joinsNetwork = cfg.share.net && cfg.network !== 'host' && cfg.network !== 'none';
    // The cgroups, the pause, its namespaces pinned, and /dev/shm: what needs at most the network namespace, not
    // its address.
    const held: { pause?: PauseProcess; netnsPath?: string } = {};
    const holdNamespaces = async (netns: string | undefined) => {
      await cg.pod.create(podResources(rec));
      undo.push(`cgroup ${cfg.cgroupParent}`, () => cg.pod.destroy());
      await cg.pause.create();
      undo.push(`cgroup ${cg.pause.path}`, () => cg.pause.destroy());
      const shmSteps = await shmMountSteps(pc.paths.shm(rec.id), cfg.shmSize);
      undo.push('/dev/shm', () => unmountShm(pc.paths.shm(rec.id)));
      // The pause pins its namespaces itself, in the launch that makes it.
      const pinSteps: Step[] = [];
      for (const t of PINNED_TYPES.filter((x) => cfg.share[x])) {
        const name = nsPinName(rec.id, t);
        const path = await pc.nsPins.reserve(name);
        undo.push(`${t} namespace pin`, () => pc.nsPins.remove(name));
        pinSteps.push(pc.nsPins.pinStep(`/proc/self/ns/${t}`, path, `share.${t}`));
      }
      const p = await startPause({
        share: cfg.share, netns,
        // network none, or containers that keep their own networks: the pause still gets a namespace of its own.
        newNetwork: cfg.network !== 'host' && !joinsNetwork,
        hostname: podHostname(rec), sysctls: cfg.sysctls,
        cgroup: cg.pause,
        hostSteps: [...(pinSteps.length ? pc.nsPins.sharedDirSteps() : []), ...shmSteps], pinSteps,
      });
      held.pause = p;
      undo.push(`pause process ${p.pid}`, () => stopPause(p, 0));
      held.netnsPath = netns;
      if (cfg.network === 'none' && cfg.share.net) {
        held.netnsPath = await pc.network().netns.pin(rec.id, `/proc/${p.pid}/ns/net`);
        undo.push('network namespace pin', () => pc.network().netns.remove(rec.id));
      }
    };
    let network;
    if (joinsNetwork) {
      const netCfg = { ...defaultContainerConfig(), networkMode: cfg.network, publish: cfg.publish };
      const ports = await publishedPorts(netCfg, []);
      rec.attaching = { network: networkName(cfg.network), netns: pc.network().netns.path(rec.id), ports };
      await pc.records.write(rec);
      // The pause starts in the pinned namespace while the plugins attach it; after them when it sets net.*
      // sysctls, which may name the interface they make (net.ipv4.conf.eth0.*), as containerd orders it.
      const afterAttach = Object.keys(cfg.sysctls).some((k) => k.startsWith('net.'));
      network = await connectContainer(pc.network(), rec.id, { ...netCfg, publish: ports }, [], undo, { args: cfg.cniArgs, ...(afterAttach ? {} : { alongside: holdNamespaces }) });
      if (afterAttach) await holdNamespaces(network!.netns);
    } else {
      await holdNamespaces(undefined);
    }
    const ips = network?.attachments.flatMap((a) => a.ips) ?? [];
    await writePodFiles(pc, rec, ips[0]);
    const { pause, netnsPath } = held;
    // The pins hold the namespaces; the pause must still be the process they came from.
    if (!pause || (await processStartTime(pause.pid)) !== pause.startTime) throw new SkiffError('pause: the process ended while its namespaces were pinned', 'ESRCH');
    undo.commit();
    return { pause, ...(netnsPath ? { netnsPath } : {}), ips, ports: network?.ports ?? [] };
  } catch (err) {
    const failures = await undo.rollback();
    for (const f of failures) pc.ctx.warn(`pod ${rec.name}: rollback: ${f}`);
    throw err;
  }
}

/** CNI DEL (from the result cache, or with what a killed start was attaching) and the network pin. Idempotent. */
export async function detachSandboxNetwork(pc: PodContext, rec: PodRecord): Promise<void> {
  const a = rec.attaching;
  if (a && !(await pc.network().networks.client.cache.list({ containerId: rec.id })).some((c) => c.networkName === a.network)) {
    // ADD was under way when its caller was killed: no cached result, so DEL with what was being attached.
    const portMappings = a.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIP !== '0.0.0.0' ? { hostIP: p.hostIP } : {}) }));
    const del: Attachment = { containerId: rec.id, netns: a.netns, ifName: 'eth0', ...(portMappings.length ? { runtimeConfig: { portMappings } } : {}) };
    await pc.network().networks.detach(a.network, del);
  }
  await disconnectContainer(pc.network(), rec.id, undefined);
}

/**
 * Takes down whatever of the sandbox is there: CNI DEL (from the result cache) and the network pin; beside them the
 * pause (the recorded one, and any process left in the pause's cgroup: a start killed before it wrote the record),
 * the other pins and /dev/shm; then the cgroups. Idempotent; every step is tried, the failures reported together.
 * `networkDown` is a detachSandboxNetwork the caller started already (true once it succeeded): awaited in place of
 * a new one, which runs only if that one failed.
 */
export async function teardownSandbox(pc: PodContext, rec: PodRecord, networkDown?: Promise<boolean>): Promise<void> {
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
  };
  const cg = await cgroups(pc, rec);
  // The network goes from its pin and the CNI cache alone, so the pause and the rest go meanwhile.
  await Promise.all([
    attempt('network', async () => {
      if (!(await networkDown)) await detachSandboxNetwork(pc, rec);
    }),
    (async () => {
      if (rec.sandbox) await attempt('pause', () => stopPause(rec.sandbox!.pause));
      await attempt('pause cgroup', async () => {
        for (const pid of await cg.pause.pids()) {
          const start = await processStartTime(pid);
          signalOnly(pid, 'SIGKILL');
          if (start && !(await waitProcessGone(pid, start, 5000))) throw new SkiffError(`process ${pid} did not end after SIGKILL`, 'EBUSY');
        }
      });
      // The pins and /dev/shm in one launch.
      const pins = PINNED_TYPES.map((t) => nsPinName(rec.id, t)).filter((name) => existsSync(pc.nsPins.path(name)));
      const shm = pc.paths.shm(rec.id);
      await attempt('namespace pins and /dev/shm', async () => {
        await unmountEach([...pins.map((name) => pc.nsPins.unpinTarget(name)), shmUnmountTarget(shm)]);
        await pc.nsPins.forget(pins);
        await removeShmDir(shm);
      });
    })(),
  ]);
  await attempt('cgroup', () => cg.pause.destroy());
  await attempt('cgroup', () => cg.pod.destroy().catch((err: NodeJS.ErrnoException) => {
    // A cgroup parent shared with other pods (given as cgroupParent) still holds theirs.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EBUSY') throw err;
  }));
  if (errors.length) throw new SkiffError(`pod ${rec.name}: teardown: ${errors.join('; ')}`, 'EBUSY');
}
