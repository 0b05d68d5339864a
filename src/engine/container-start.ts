// docker start: the rootfs mounted, the network attached, hosts files written, the spec made, and the container
// created under its native monitor and started. Each step registers its undo: a start that fails leaves the
// container as it was (created or exited), with nothing mounted, attached or running.
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { LinuxDevice } from '../oci/runtime-spec.js';
import { writeFileAtomic } from '../common/atomic-write.js';
import { UndoStack } from '../common/undo.js';
import { imageDefaults, type ImageConfig } from '../image/container-config.js';
import { mountRootfs, unmountRootfs } from '../image/rootfs.js';
import { processStartTime } from '../runtime/proc.js';
import { SkiffError } from '../common/errors.js';
import type { DeviceRequest } from './container-config.js';
import { containerFiles, hostDns, hostsFile, parseExtraHost, resolvConf, type HostsEntry } from './container-files.js';
import { connectContainer } from './container-network.js';
import type { ContainerRecord } from './container-record.js';
import { buildContainerSpec, containerHostname } from './container-spec.js';
import { deviceNode, hostDevices, type EngineContext } from './context.js';
import { startMonitored } from './monitor.js';
import { refreshNetworkHosts } from './network-hosts.js';

export interface StartOptions {
  /** Called once the container exists and before its process runs: attach here to see all of its output. */
  beforeStart?: (rec: ContainerRecord) => Promise<void>;
}

function imageConfig(ctx: EngineContext, id: string): ImageConfig {
  return JSON.parse(readFileSync(join(ctx.paths.container(id), 'image-config.json'), 'utf8')) as ImageConfig;
}

/** Starts a created or exited container; the caller holds its lock. Returns the record as it now is. */
export async function startLocked(ctx: EngineContext, rec: ContainerRecord, opts: StartOptions = {}): Promise<ContainerRecord> {
  if (rec.state.status === 'running') return rec;
  if (rec.state.status === 'removing') throw new SkiffError(`container ${rec.name} is being removed`, 'EINVAL');
  const id = rec.id;
  const cfg = rec.config;
  const image = imageConfig(ctx, id);
  const before = rec.state;
  const undo = new UndoStack();
  try {
    const rootfs = await mountRootfs(ctx.paths.root, id);
    undo.push('rootfs mount', () => unmountRootfs(ctx.paths.root, id));
    // A pod's container joins the pod's network namespace and uses its hosts files (SharedWithPod).
    const network = cfg.shared?.namespaces.network ? undefined : await connectContainer(ctx.network(), id, cfg, imageDefaults(image).exposedPorts, undo);
    const files = containerFiles(ctx.paths.container(id));
    if (!cfg.shared?.files) writeContainerFiles(cfg, id, files, network?.attachments[0]?.ips[0]);
    const volumePaths = cfg.mounts.map((m) => (m.type === 'volume' ? ctx.volumes.mountpoint(m.source!) : undefined));
    for (const m of cfg.mounts) if (m.type === 'volume' && !m.noCopy) await ctx.volumes.fillFromImage(m.source!, rootfs, m.target);
    const host = await ctx.runtime.host();
    const devices = (cfg.devices ?? []).flatMap((d) => deviceNodes(d));
    // The kubelet makes the pod's log directory; a log path elsewhere (crictl, tests) gets its directory here.
    if (cfg.logPath) await mkdir(dirname(cfg.logPath), { recursive: true });
    const spec = buildContainerSpec(image, cfg, {
      id, rootfs, netns: network?.netns, files, volumePaths, initBinary: ctx.initBinary(), hostCaps: host.capEff,
      hostDevices: cfg.privileged ? hostDevices() : [], devices,
    });
    const bundle = ctx.paths.container(id);
    // Atomic, as exec, cp and inspect read it while a restart writes it again; not synced: the record is.
    await writeFileAtomic(ctx.paths.spec(id), JSON.stringify(spec), 0o644, false);
    await mkdir(ctx.paths.exits, { recursive: true });
    await mkdir(join(ctx.paths.state, 'attach'), { recursive: true, mode: 0o700 });
    rmSync(ctx.paths.exitFile(id), { force: true });
    const state = await startMonitored(ctx, rec, bundle);
    undo.push('container', () => ctx.runtimeOf(rec).delete(id, { force: true }));
    rec.state = {
      status: 'running', pid: state.pid, pidStartTime: (await processStartTime(state.pid)) ?? '', monitor: state.monitor,
      startedAt: new Date().toISOString(), restartCount: rec.state.restartCount, stopRequested: false,
    };
    rec.command = spec.process?.args;
    rec.network = network;
    // Recorded before the process runs: a skiff killed from here on leaves a record that reconcile can follow.
    await ctx.records.write(rec);
    await opts.beforeStart?.(rec);
    await ctx.runtimeOf(rec).start(id);
    undo.commit();
    for (const a of network?.attachments ?? []) await refreshNetworkHosts(ctx, a.network).catch((err: Error) => ctx.warn(`/etc/hosts of network ${a.network}: ${err.message}`));
    return rec;
  } catch (err) {
    await undo.rollback();
    rec.state = { ...before, error: (err as Error).message };
    rec.network = undefined;
    await ctx.records.write(rec).catch(() => {});
    throw err;
  }
}

/**
 * The device node at a host path, or every node under a host directory (containerd does the same), each with its
 * container path and the cgroup access asked for.
 */
function deviceNodes(d: DeviceRequest): { device: LinuxDevice; access: string }[] {
  const st = statSync(d.hostPath, { throwIfNoEntry: false });
  if (!st) throw new SkiffError(`device ${d.hostPath}: no such file or directory`, 'ENOENT');
  if (st.isDirectory()) {
    return hostDevices(d.hostPath).map((device) => ({
      device: { ...device, path: posix.join(d.containerPath, posix.relative(d.hostPath, device.path)) }, access: d.permissions,
    }));
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new SkiffError(`device ${d.hostPath}: not a device node`, 'EINVAL');
  return [{ device: deviceNode(d.containerPath, st), access: d.permissions }];
}

/** hosts (own name and address, --add-host), resolv.conf (the host's, --dns...), hostname. */
function writeContainerFiles(cfg: ContainerRecord['config'], id: string, files: ReturnType<typeof containerFiles>, ip: string | undefined): void {
  const hostname = containerHostname(cfg, id);
  const own: HostsEntry[] = ip ? [{ ip: ip.split('/')[0], names: [hostname] }] : [];
  const extra = cfg.extraHosts.map((h) => parseExtraHost(h)!).filter(Boolean);
  writeFileSync(files.hosts, hostsFile(own, extra));
  writeFileSync(files.resolvConf, resolvConf(hostDns(), { servers: cfg.dns, searches: cfg.dnsSearch, options: cfg.dnsOptions }, cfg.networkMode === 'host'));
  writeFileSync(files.hostname, `${hostname}\n`);
}
