// exec: a new process inside a running container's namespaces and cgroup (runc exec).
import { resolve } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic-write.js';
import type { CgroupManager } from '../cgroups/index.js';
import type { Process } from '../oci/runtime-spec.js';
import type { ContainerRecord } from './container-store.js';
import type { HostFacts } from './host-facts.js';
import { launch, type Launched, type StdioTarget } from '../native/launcher.js';
import { explainSeccompRefusal } from '../seccomp/refusal.js';
import { buildExecPlan } from './plan/index.js';
import { processDocuments } from './create.js';
import { stateDocument } from './status.js';

export interface ExecOptions {
  consoleSocket?: string;
  /** Return once the process runs, without waiting for it (runc exec --detach). */
  detach?: boolean;
  pidFile?: string;
  preserveFds?: number;
  stdio?: [StdioTarget, StdioTarget, StdioTarget];
}

export interface ExecResult {
  pid: number;
  /** Resolves with the exit status when not detached. */
  exit?: Promise<{ exitCode: number; signal?: number }>;
  /** Our ends of the stdio asked for as 'pipe'. */
  pipes: Launched['pipes'];
  /** Sets the size of the process's terminal (held by the waiting parent). */
  resize: Launched['resize'];
}

export async function execProcess(
  host: HostFacts, rec: ContainerRecord, cgroup: CgroupManager, proc: Process, opts: ExecOptions,
): Promise<ExecResult> {
  // As at create (create.ts): a process that joins a user namespace cannot write the host's cgroup files.
  const cgroupSelfJoin = rec.spec.linux?.namespaces?.some((n) => n.type === 'user') ? undefined : cgroup.selfJoinFiles();
  const plan = buildExecPlan(host, {
    initPid: rec.pid,
    containerId: rec.id,
    noNewKeyring: rec.noNewKeyring,
    process: proc,
    spec: rec.spec,
    consoleSocket: opts.consoleSocket,
    parentMode: opts.detach ? 'exit' : 'wait',
    preserveFds: opts.preserveFds,
    cgroupSelfJoin,
  });
  const launched = await launch({
    plan,
    stdio: opts.stdio,
    preserveFds: opts.preserveFds,
    cwd: rec.bundle,
    explain: (err) => explainSeccompRefusal(err, plan, rec.spec.linux?.seccomp),
    onPid: async (pid) => {
      if (!cgroupSelfJoin) await cgroup.addProcess(pid);
      return processDocuments(rec.spec, stateDocument(rec, 'running'));
    },
  });
  if (opts.pidFile) writeFileAtomicSync(resolve(opts.pidFile), String(launched.pid));
  return {
    pid: launched.pid,
    exit: launched.exit?.then((e) => ({ exitCode: e.exitCode, signal: e.signal })),
    pipes: launched.pipes,
    resize: launched.resize,
  };
}
