// Another OCI runtime's binary (runc, crun) as a RuntimeClass handler, as containerd's BinaryName: its `create` runs
// under skiff's native monitor (the `oci-create` step, docs/launch-plan.md), which then holds the container's stdio,
// log and exit as it does for our own runtime; every other operation is that binary's command line. Its state lives
// in its own --root (stateRoot); beside it, meta/ keeps what skiff needs without asking the binary: the container's
// cgroup, read directly for listings, stats and pids, as a process per container per listing would be too slow.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { SkiffError } from '../common/errors.js';
import { readSmallFile } from '../common/read-small.js';
import { UndoStack } from '../common/undo.js';
import { cgroupManager, removeFromNamedHierarchies, resolveCgroupsPath, type CgroupManager, type CgroupStats } from '../cgroups/index.js';
import { launch, LaunchError } from '../native/launcher.js';
import { step } from '../native/step.js';
import type { LinuxResources, Process } from '../oci/runtime-spec.js';
import { ContainerStore } from './container-store.js';
import { withErrorPrefix } from './error-prefix.js';
import { ProgramNotRun } from './program-not-run.js';
import type { ContainerRuntime, MonitoredContainer, MonitoredCreateOptions } from './container-runtime.js';
import type { ExecOptions, ExecResult } from './exec.js';
import type { HostFacts } from './host-facts.js';
import { monitorStep } from './plan/index.js';
import { prepareMonitor, validateMonitorOptions, type MonitorOptions } from './monitor-setup.js';
import { killAndWait } from './create.js';
import { processStartTime } from './proc.js';
import { parseSignal } from './signals.js';

/** The binary's environment: it needs no more (its hooks name absolute paths). */
const BINARY_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/** sun_path's size (unix(7)): the binary connects to the console socket by its path. */
const SUN_PATH_MAX = 108;

interface Meta {
  cgroupsPath: string;
}

export class OciBinaryRuntime implements ContainerRuntime {
  readonly stateRoot: string;
  private readonly metaRoot: string;
  private readonly binaryLink: string;
  /** Names this process's exec files apart. */
  private execs = 0;

  /**
   * `name` is the handler's, for messages; `binary` an absolute path (undefined: not known here, so only what needs
   * no binary works: a delete of a container that is gone); `root` a directory of this handler's own. `host` gives
   * the cgroup mode.
   */
  constructor(
    readonly name: string,
    readonly binary: string | undefined,
    root: string,
    private readonly host: () => Promise<HostFacts>,
    private readonly warn: (message: string) => void,
  ) {
    this.stateRoot = join(root, 'state');
    this.metaRoot = join(root, 'meta');
    this.binaryLink = join(root, 'binary');
  }

  /** The binary a handler whose directory is `root` last created a container with (a symlink there). */
  static recordedBinary(root: string): string | undefined {
    try {
      return readlinkSync(join(root, 'binary'));
    } catch {
      return undefined;
    }
  }

  async createMonitored(id: string, opts: MonitoredCreateOptions, monitor: MonitorOptions): Promise<MonitoredContainer> {
    return withErrorPrefix('create', id, async () => {
      ContainerStore.checkId(id);
      validateMonitorOptions(monitor);
      const binary = this.knownBinary();
      const bundle = resolve(opts.bundle);
      const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process?: Process; linux?: { cgroupsPath?: string } };
      // The binary resolves a missing or relative path by rules of its own; the monitor and our listings need it known.
      if (!spec.linux?.cgroupsPath?.startsWith('/')) throw new SkiffError('linux.cgroupsPath must be an absolute path for another runtime\'s binary', 'EINVAL');
      // opts.loopbackUp needs nothing here: runc and crun bring `lo` up in every network namespace they make.
      const terminal = Boolean(spec.process?.terminal);
      const files = this.files(id);
      if (terminal && files.console.length >= SUN_PATH_MAX) {
        throw new SkiffError(`console socket ${files.console}: longer than a unix socket path can be; use a shorter state directory`, 'ENAMETOOLONG');
      }
      mkdirSync(this.stateRoot, { recursive: true, mode: 0o700 });
      mkdirSync(this.metaRoot, { recursive: true, mode: 0o700 });
      // Recorded for a process that does not have this handler configured (a skiff CLI beside skiffd).
      if (OciBinaryRuntime.recordedBinary(dirname(this.binaryLink)) !== binary) {
        const temp = `${this.binaryLink}.${process.pid}`;
        rmSync(temp, { force: true });
        symlinkSync(binary, temp);
        renameSync(temp, this.binaryLink);
      }
      const undo = new UndoStack();
      try {
        const meta: Meta = { cgroupsPath: resolveCgroupsPath(spec.linux.cgroupsPath, id) };
        await writeFileAtomic(files.meta, JSON.stringify(meta));
        undo.push('runtime meta', () => this.removeFiles(id));
        // Made before the monitor starts, so that it can watch the cgroup's OOM kills; the binary joins it.
        const cgroup = await this.cgroup(meta);
        await cgroup.create();
        undo.push(`cgroup ${meta.cgroupsPath}`, () => this.destroyCgroup(meta));
        undo.push(`${this.name} state`, () => this.run(['delete', '--force', id]).then(() => undefined, () => undefined));
        const monitorPlan = await prepareMonitor(monitor, cgroup, undo);
        const argv = [
          binary, '--root', this.stateRoot, '--log', files.log, '--log-format', 'json',
          'create', '--bundle', bundle, '--pid-file', files.pid, ...(terminal ? ['--console-socket', files.console] : []), id,
        ];
        const plan = [
          monitorStep(monitorPlan, terminal),
          step('oci-create', [files.pid, terminal ? files.console : '', argv.length, ...argv, BINARY_ENV.length, ...BINARY_ENV], undefined, `${this.name} create`),
          step('ready'),
        ];
        let created: MonitoredContainer | undefined;
        await launch({
          plan, stdio: ['ignore', 'ignore', 'ignore'], cwd: bundle, detached: true,
          onPid: async (pid, helperPid) => {
            const startTime = (await processStartTime(helperPid)) ?? '';
            // The monitor first: one that saw its container die would run the exit command.
            undo.push(`monitor ${helperPid}`, () => killAndWait(helperPid, startTime));
            created = { pid, monitor: { pid: helperPid, startTime } };
            return { state: '' };
          },
        }).catch(async (err: Error) => {
          if (err instanceof LaunchError && plan[err.stepIndex]?.op === 'oci-create') throw await this.binaryFailure(err, files.log);
          throw err;
        });
        await rm(files.log, { force: true });
        undo.commit();
        return created!;
      } catch (err) {
        await undo.rollback();
        throw err;
      }
    });
  }

  start(id: string): Promise<void> {
    return withErrorPrefix('start', id, async () => { await this.run(['start', id]); });
  }

  async frozen(id: string): Promise<boolean> {
    return (await (await this.cgroupOf(id)).freezerState()) === 'frozen';
  }

  kill(id: string, signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    const sig = parseSignal(signal);
    return withErrorPrefix('kill', id, async () => { await this.run(['kill', ...(opts.all ? ['--all'] : []), id, String(sig)]); });
  }

  delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    return withErrorPrefix('delete', id, async () => {
      try {
        // No state: nothing for the binary to do (a create killed early, a reboot), and it may not be known here.
        if (!opts.force || existsSync(join(this.stateRoot, id))) await this.run(['delete', ...(opts.force ? ['--force'] : []), id]);
      } catch (err) {
        // As our own runtime: --force succeeds for a container that is gone.
        if (!(opts.force && (err as SkiffError).code === 'ENOENT')) throw err;
      }
      // The binary removed the cgroup it used; one it never joined (a create killed early) is removed here.
      const meta = await this.meta(id).catch(() => undefined);
      if (meta) await this.destroyCgroup(meta);
      await this.removeFiles(id);
    });
  }

  /**
   * The binary's `exec --detach` run by the native helper as the process's subreaper (the `oci-exec` step), which
   * then waits for it as for one of our own execs: the exit status, the terminal (resize), signals passed on.
   */
  async exec(id: string, proc: Process, opts: ExecOptions = {}): Promise<ExecResult> {
    return withErrorPrefix('exec', id, async () => {
      if (opts.consoleSocket) throw new SkiffError(`the "${this.name}" runtime handler's exec holds the terminal itself: no console socket`, 'EINVAL');
      if (opts.preserveFds) throw new SkiffError(`preserved fds are not supported under the "${this.name}" runtime handler`, 'ENOTSUP');
      const terminal = opts.consoleSocket !== undefined;
      const tag = `${id.slice(0, 16)}-${process.pid}-${(this.execs++).toString(36)}`;
      const files = { process: join(this.metaRoot, `${tag}.process.json`), pid: join(this.metaRoot, `${tag}.pid`), log: join(this.metaRoot, `${tag}.log`), console: join(this.metaRoot, `${tag}.tty`) };
      if (terminal && files.console.length >= SUN_PATH_MAX) {
        throw new SkiffError(`console socket ${files.console}: longer than a unix socket path can be; use a shorter state directory`, 'ENAMETOOLONG');
      }
      await writeFileAtomic(files.process, JSON.stringify({ ...proc, terminal }));
      const argv = [
        this.knownBinary(), '--root', this.stateRoot, '--log', files.log, '--log-format', 'json', 'exec', '--detach',
        '--process', files.process, '--pid-file', files.pid, ...(terminal ? ['--console-socket', files.console] : []), id,
      ];
      const plan = [step('oci-exec', [files.pid, terminal ? files.console : '', opts.detach ? 1 : 0, argv.length, ...argv, BINARY_ENV.length, ...BINARY_ENV], undefined, `${this.name} exec`)];
      try {
        const launched = await launch({ plan, stdio: opts.stdio, cwd: this.metaRoot, onPid: async () => ({ state: '' }) }).catch(async (err: Error) => {
          throw err instanceof LaunchError ? await this.binaryFailure(err, files.log) : err;
        });
        return {
          pid: launched.pid,
          exit: launched.exit?.then((e) => ({ exitCode: e.exitCode, signal: e.signal })),
          pipes: launched.pipes,
          resize: launched.resize,
        };
      } finally {
        // Synchronously: the caller must get the pipes before the event loop turns, or a process that ends at
        // once could close them before anyone listens.
        for (const f of Object.values(files)) rmSync(f, { force: true });
      }
    });
  }

  async pids(id: string): Promise<number[]> {
    return (await this.cgroupOf(id)).pids();
  }

  pause(id: string): Promise<void> {
    return withErrorPrefix('pause', id, async () => { await this.run(['pause', id]); });
  }

  resume(id: string): Promise<void> {
    return withErrorPrefix('resume', id, async () => { await this.run(['resume', id]); });
  }

  update(id: string, resources: LinuxResources): Promise<void> {
    return withErrorPrefix('update', id, async () => { await this.run(['update', '--resources', '-', id], JSON.stringify(resources)); });
  }

  async stats(id: string): Promise<CgroupStats> {
    return (await this.cgroupOf(id)).stats();
  }

  private files(id: string) {
    const base = join(this.metaRoot, id);
    // The console socket's name is short: runc and crun connect to it by a path that must fit sun_path.
    return { meta: `${base}.json`, pid: `${base}.pid`, log: `${base}.log`, console: join(this.metaRoot, `${id.slice(0, 16)}.tty`) };
  }

  private async removeFiles(id: string): Promise<void> {
    const f = this.files(id);
    await Promise.all([f.meta, f.pid, f.log].map((p) => rm(p, { force: true })));
  }

  private async meta(id: string): Promise<Meta> {
    try {
      return JSON.parse(readSmallFile(this.files(id).meta, 'utf8')) as Meta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SkiffError(`container "${id}" does not exist`, 'ENOENT');
      throw err;
    }
  }

  /** The cgroup, and what the binary made of its path in the hierarchies skiff does not manage (name=systemd). */
  private async destroyCgroup(meta: Meta): Promise<void> {
    await (await this.cgroup(meta)).destroy();
    await removeFromNamedHierarchies(meta.cgroupsPath);
  }

  private async cgroupOf(id: string): Promise<CgroupManager> {
    return this.cgroup(await this.meta(id));
  }

  private async cgroup(meta: Meta): Promise<CgroupManager> {
    return cgroupManager(meta.cgroupsPath, { mode: (await this.host()).cgroupMode, warn: this.warn });
  }

  /** The binary; an error naming the handler when this process does not know it. */
  private knownBinary(): string {
    if (!this.binary) throw new SkiffError(`runtime handler "${this.name}" is not configured here (skiffd's runtimeHandlers), and no container recorded its binary`, 'EINVAL');
    return this.binary;
  }

  /** Runs the binary with our --root; its stdout, or an error from its stderr (ENOENT and ESRCH as runc words them). */
  private run(args: string[], stdin?: string): Promise<string> {
    const binary = this.knownBinary();
    return new Promise((res, rej) => {
      const child = execFile(binary, ['--root', this.stateRoot, ...args], { env: envOf(BINARY_ENV), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (!err) return res(stdout);
        const text = stderr.trim() || err.message;
        rej(new SkiffError(`${this.name}: ${lastLine(text)}`, errorCode(text)));
      });
      // A binary that fails at once closes its stdin before we write: its exit status says why, not EPIPE.
      child.stdin?.on('error', () => {});
      child.stdin?.end(stdin ?? '');
    });
  }

  /**
   * The error for a failed command in the binary's own words, from its --log (JSON lines: {"level":"error","msg":...}):
   * a ProgramNotRun when they say the container's program could not be run.
   */
  private async binaryFailure(err: LaunchError, log: string): Promise<Error> {
    const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const errors = lines.flatMap((l) => {
      try {
        const o = JSON.parse(l) as { level?: string; msg?: string };
        return o.level === 'error' || o.level === 'fatal' ? [o.msg ?? ''] : [];
      } catch {
        return [l];
      }
    });
    if (!errors.length) return err;
    const message = `${this.name}: ${errors[errors.length - 1]}`;
    const notRun = programNotRun(message);
    if (notRun) return notRun;
    err.message = message;
    return err;
  }
}

function envOf(lines: string[]): Record<string, string> {
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter(Boolean);
  return lines[lines.length - 1] ?? text;
}

/** runc says "container does not exist" and "container not running"; crun "... does not exist", "... not running". */
function errorCode(text: string): string {
  if (/does not exist|not found/i.test(text)) return 'ENOENT';
  if (/not running|is stopped|process already finished/i.test(text)) return 'ESRCH';
  return 'EIO';
}

/**
 * The binary's words for a process whose program could not be run, as docker reads runc's (and crun's): `exec:
 * "x": executable file not found in $PATH`, `stat /x: no such file or directory`, `permission denied`.
 */
function programNotRun(message: string): ProgramNotRun | undefined {
  if (!/exec|executable/i.test(message)) return undefined;
  if (/executable file .*not found|no such file or directory/i.test(message)) return new ProgramNotRun(message, true);
  if (/permission denied|is a directory|exec format error/i.test(message)) return new ProgramNotRun(message, false);
  return undefined;
}
