// create: everything up to the container process waiting before exec (runtime-spec runtime.md "create").
// Every step that makes something registers its undo, so a failure anywhere leaves nothing behind.
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic-write.js';
import { SkiffError } from '../common/errors.js';
import { UndoStack } from '../common/undo.js';
import { containerDeviceRules } from '../cgroups/device-rules.js';
import { cgroupManager, resolveCgroupsPath, type CgroupManager } from '../cgroups/index.js';
import type { Spec, State } from '../oci/runtime-spec.js';
import { validateSpec } from './validate.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import type { HostFacts } from './host-facts.js';
import { runHooks } from './hooks.js';
import { launch, type Launched, type StdioTarget } from '../native/launcher.js';
import { explainSeccompRefusal } from '../seccomp/refusal.js';
import { bindSourceFlags, buildCreatePlan, statBindSources } from './plan/index.js';
import { pidInOwnNamespace, processStartTime, waitProcessGone } from './proc.js';
import { stateDocument } from './status.js';
import { prepareMonitor, validateMonitorOptions, type MonitorOptions } from './monitor-setup.js';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** The container's stdin, stdout, stderr (default: this process's). */
  stdio?: [StdioTarget, StdioTarget, StdioTarget];
  /** Bring `lo` up in a new network namespace (the engine's --network none; runc leaves it down). */
  loopbackUp?: boolean;
  /**
   * The native parent gets a session of its own, out of reach of the terminal's signals, because the caller relays
   * signals itself (skiff run without -t, as docker's --sig-proxy).
   */
  ownSession?: boolean;
}

/** How the native parent behaves once the container exists (docs/launch-plan.md `clone`). */
export type LaunchMode =
  | { kind: 'create' }                       // wait on the exec fifo for `start`; parent exits (runc create)
  | { kind: 'run' }                          // as create, with a parent that waits and reports the exit status (runc run)
  | { kind: 'monitor'; monitor: MonitorOptions };  // as create, with a detached monitor as the parent (docs/monitor.md)

export interface Created {
  record: ContainerRecord;
  cgroup: CgroupManager;
  launched: Launched;
}

export async function readSpec(bundle: string, host: HostFacts): Promise<Spec> {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SkiffError(e.code === 'ENOENT' ? `${path}: no such file (is --bundle right?)` : `${path}: ${e.message}`, 'EINVAL');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SkiffError(`${path}: invalid JSON: ${(err as Error).message}`, 'EINVAL');
  }
  return validateSpec(json, host);
}

/** `warn` hears of what the config asks and this host ignores (kernel memory limits), as runc warns of it. */
export async function createContainer(
  store: ContainerStore, host: HostFacts, id: string, opts: CreateOptions, mode: LaunchMode, warn: (message: string) => void,
): Promise<Created> {
  if (mode.kind === 'monitor') validateMonitorOptions(mode.monitor);
  const bundle = resolve(opts.bundle);
  const spec = await readSpec(bundle, host);
  if (mode.kind === 'monitor' && spec.process?.terminal && opts.consoleSocket) {
    throw new SkiffError('a monitored container\'s terminal is held by its monitor: no console socket', 'EINVAL');
  }
  const rootfs = isAbsolute(spec.root!.path) ? spec.root!.path : join(bundle, spec.root!.path);
  const bindSourceKinds = await statBindSources(spec, bundle);
  // A host fact the plan needs only in a user namespace: the locked flags of bind sources.
  const userns = spec.linux?.namespaces?.some((n) => n.type === 'user') ?? false;
  const flags = userns ? await bindSourceFlags(spec, bundle) : undefined;
  const cgroupsPath = resolveCgroupsPath(spec.linux?.cgroupsPath, id);

  const undo = new UndoStack();
  try {
    await store.claim(id);
    undo.push('state directory', () => store.remove(id));

    // Every mode waits on the exec fifo: run releases it itself, at once, and reads it to learn when the program runs.
    const execFifo = store.fifoPath(id);

    const cgroup = cgroupManager(cgroupsPath, { mode: host.cgroupMode, warn });
    const resources = spec.linux?.resources;
    // On cgroup v2 device rules are a BPF program the plan attaches (bpf-devices); on v1 they are cgroup files.
    const devices = host.cgroupMode === 'v2' ? undefined : containerDeviceRules(resources?.devices, spec.linux?.devices);
    await cgroup.create(resources && { ...resources, devices });
    undo.push(`cgroup ${cgroupsPath}`, () => cgroup.destroy());

    const record: ContainerRecord = {
      id, bundle, rootfs, pid: 0, pidStartTime: '', created: new Date().toISOString(),
      cgroupsPath, spec, creating: true, noNewKeyring: opts.noNewKeyring,
    };
    await store.write(record);

    const monitor = mode.kind === 'monitor' ? await prepareMonitor(mode.monitor, cgroup, undo) : undefined;
    // A child in a user namespace cannot write the host's cgroup files: the runtime moves it.
    const cgroupSelfJoin = userns ? undefined : cgroup.selfJoinFiles();

    const plan = buildCreatePlan(spec, host, {
      containerId: id, bundle, rootfs, bindSourceKinds, bindSourceFlags: flags, cgroupsPath, cgroupSelfJoin,
      parentMode: mode.kind === 'create' ? 'exit' : mode.kind === 'run' ? 'wait' : 'monitor',
      monitor,
      execFifo,
      // The monitor holds the pty master (console-connect ""), as a `wait` parent does when the caller says so.
      consoleSocket: monitor ? '' : opts.consoleSocket,
      noPivot: opts.noPivot,
      noNewKeyring: opts.noNewKeyring,
      loopbackUp: opts.loopbackUp,
      preserveFds: opts.preserveFds,
    });

    // What an error message needs of each step after `ready` (not the exec's arguments and environment).
    const ready = plan.findIndex((st) => st.op === 'ready');
    record.lateSteps = { first: ready + 1, steps: plan.slice(ready + 1).map((st) => ({ op: st.op, args: [], field: st.field, what: st.what })) };
    const hookState = (status: State['status']): State => stateDocument(record, status);
    const launched = await launch({
      plan,
      stdio: mode.kind === 'monitor' ? ['ignore', 'ignore', 'ignore'] : opts.stdio,
      preserveFds: opts.preserveFds,
      cwd: bundle,
      detached: mode.kind === 'monitor' || Boolean(opts.ownSession),
      explain: (err) => explainSeccompRefusal(err, plan, spec.linux?.seccomp),
      onPid: async (pid, helperPid) => {
        record.pid = pid;
        record.pidStartTime = (await processStartTime(pid)) ?? '';
        undo.push(`container process ${pid}`, () => killAndWait(pid, record.pidStartTime));
        if (monitor) {
          const startTime = (await processStartTime(helperPid)) ?? '';
          // Undone before the container is killed: a monitor that saw its container die would run the exit command.
          undo.push(`monitor ${helperPid}`, () => killAndWait(helperPid, startTime));
          record.monitor = {
            pid: helperPid, startTime, exitFile: monitor.exitFile, logPath: monitor.logPath,
            attachSocket: monitor.attachSocket || undefined,
          };
        }
        await writeIdMaps(spec, pid);
        // The process opens the fifo read-write as root of its user namespace: a host uid that mode 0622 would
        // let write but not read, so the fifo becomes that uid's (user_namespaces(7): ids map through uid_map).
        if (execFifo && userNamespaceOf(spec)) chownToNamespaceRoot(execFifo, pid);
        if (!cgroupSelfJoin) await cgroup.addProcess(pid);
        // Recorded before the process is let go (run releases it as soon as it is created): `state` must name its pid.
        await store.write(record);
        // startContainer hooks run in the container's namespaces, where runtime.md wants the pid as seen there.
        return processDocuments(spec, hookState('created'), pidInOwnNamespace(pid));
      },
      onSync: async (name) => {
        if (name !== 'hooks') throw new SkiffError(`native helper reached unknown sync point "${name}"`);
        // runtime.md: "created" once the environment exists (lifecycle step 2), as these hooks come after it
        // (steps 3 to 5); docs/hooks.md says why not runc's "creating".
        const state = hookState('created');
        await runHooks(spec.hooks?.prestart, 'prestart', state);
        await runHooks(spec.hooks?.createRuntime, 'createRuntime', state);
        await runHooks(spec.hooks?.createContainer, 'createContainer', state);
      },
    });

    record.creating = false;
    await store.write(record);
    if (opts.pidFile) writeFileAtomicSync(resolve(opts.pidFile), String(record.pid));
    undo.commit();
    return { record, cgroup, launched };
  } catch (err) {
    await undo.rollback();
    throw err;
  }
}

/**
 * The state for hooks the helper runs in the container (with the process's pid as seen there, `containerPid`, when
 * known), and the ContainerProcessState a seccomp listener, in the runtime's namespaces, receives with the notify fd.
 */
export function processDocuments(spec: Spec, state: State, containerPid?: number): { state: string; processState: string } {
  const processState = spec.linux?.seccomp?.listenerPath
    ? JSON.stringify({ ociVersion: spec.ociVersion, fds: ['seccompFd'], pid: state.pid, metadata: spec.linux.seccomp.listenerMetadata ?? '', state })
    : '';
  return { state: JSON.stringify(containerPid === undefined ? state : { ...state, pid: containerPid }), processState };
}

function userNamespaceOf(spec: Spec): boolean {
  return spec.linux?.namespaces?.some((n) => n.type === 'user') ?? false;
}

/** The host uid and gid that are 0 in the user namespace of `pid` (its uid_map and gid_map, already written). */
function chownToNamespaceRoot(path: string, pid: number): void {
  const hostIdOfRoot = (file: string) => {
    for (const line of readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\n')) {
      const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
      if (inside === 0 && count > 0) return outside;
    }
    return undefined;
  };
  const uid = hostIdOfRoot('uid_map');
  const gid = hostIdOfRoot('gid_map');
  if (uid !== undefined && gid !== undefined) chownSync(path, uid, gid);
}

/** uid_map/gid_map of a new user namespace, written by us as root in the parent namespace (user_namespaces(7)). */
async function writeIdMaps(spec: Spec, pid: number): Promise<void> {
  const userns = spec.linux?.namespaces?.find((n) => n.type === 'user');
  if (!userns || userns.path) return;
  const lines = (maps: { containerID: number; hostID: number; size: number }[] | undefined) =>
    (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  writeFileSync(`/proc/${pid}/uid_map`, lines(spec.linux?.uidMappings));
  writeFileSync(`/proc/${pid}/gid_map`, lines(spec.linux?.gidMappings));
}

export async function killAndWait(pid: number, startTime: string): Promise<void> {
  // A create killed before its process existed recorded pid 0; kill(2) of pid 0 would signal our own process group.
  if (pid <= 0) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitProcessGone(pid, startTime, 10_000);
}
