// docker exec: a new process in a running container, with the container's environment, user, capabilities and
// seccomp profile unless the request says otherwise (runtime exec, in-process).
import { SkiffError } from '../common/errors.js';
import { resolveUser } from '../image/container-config.js';
import type { Process } from '../oci/runtime-spec.js';
import type { ExecResult } from '../runtime/exec.js';
import type { StdioTarget } from '../native/launcher.js';
import type { EngineContext } from './context.js';
import { current } from './container-stop.js';

export interface ExecRequest {
  command: string[];
  /** KEY=VALUE added to or replacing the container's environment. */
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  /** Return once the process runs (docker exec -d). */
  detach?: boolean;
  /** The process's stdin, stdout, stderr (default: ours). */
  stdio?: [StdioTarget, StdioTarget, StdioTarget];
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map(base.map((e) => [e.slice(0, e.indexOf('=')), e]));
  for (const e of extra) {
    if (!e.includes('=') || e.startsWith('=')) throw new SkiffError(`-e ${e}: expected KEY=VALUE`, 'EINVAL');
    out.set(e.slice(0, e.indexOf('=')), e);
  }
  return [...out.values()];
}

export async function execInContainer(ctx: EngineContext, id: string, req: ExecRequest): Promise<ExecResult> {
  const rec = await current(ctx, id);
  const spec = rec.state.status === 'running' ? ctx.records.spec(rec.id) : undefined;
  if (!spec?.process) throw new SkiffError(`container ${rec.name} is not running`, 'EINVAL');
  if (req.command.length === 0) throw new SkiffError('exec: no command given', 'EINVAL');
  const base = spec.process;
  const rootfs = spec.root!.path;
  const user = req.user !== undefined ? resolveUser(req.user, rootfs, '-u') : undefined;
  let env = mergeEnv(base.env ?? [], req.env ?? []);
  if (req.tty && !env.some((e) => e.startsWith('TERM='))) env = [...env, 'TERM=xterm'];
  const proc: Process = {
    ...base,
    args: req.command,
    env,
    cwd: req.workdir ?? base.cwd,
    terminal: Boolean(req.tty),
    user: user ? { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) } : base.user,
  };
  return ctx.runtimeOf(rec).exec(rec.id, proc, { consoleSocket: req.tty ? '' : undefined, detach: req.detach, stdio: req.stdio });
}
