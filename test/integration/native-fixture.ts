// Hand-built launch plans for the native helper's tests: a busybox rootfs in a temp dir, and the steps that turn
// a clone into a container (private mounts, the rootfs bound onto itself, /proc, pivot_root) around a shell script.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../../src/image/busybox-rootfs.js';
import { MS } from '../../src/common/linux-flags.js';
import { CLONE } from '../../src/common/linux-flags.js';
import { step, type Step } from '../../src/native/step.js';
import { launch, type LaunchOptions, type Launched } from '../../src/native/launcher.js';

export const NS_ALL = CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET;

export interface ContainerPlan {
  rootfs: string;
  script: string;
  flags?: number;
  mode?: 'exit' | 'wait' | 'monitor';
  /** Parent-phase steps before clone. */
  parent?: Step[];
  /** Child steps before pivot_root (paths on the host). */
  beforePivot?: Step[];
  /** Child steps after pivot_root, before close-fds and exec. */
  afterPivot?: Step[];
  /** Child steps after `ready`, before exec. */
  afterReady?: Step[];
  env?: string[];
}

/** clone, /proc, pivot_root, then `sh -c script` with only fds 0..firstFd-1 left open. */
export function containerPlan(p: ContainerPlan, firstFd = 3): Step[] {
  const env = p.env ?? ['PATH=/bin:/sbin:/usr/bin:/usr/sbin'];
  return [
    ...(p.parent ?? []),
    step('clone', [p.flags ?? NS_ALL, p.mode ?? 'wait'], 'linux.namespaces', 'create the container process'),
    step('mount', ['', '/', '', MS.REC | MS.PRIVATE, ''], undefined, 'make / private'),
    step('mount', [p.rootfs, p.rootfs, '', MS.BIND | MS.REC, ''], 'root.path', 'bind the rootfs onto itself'),
    step('mount-in', [p.rootfs, 'proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, ''], 'mounts[0]', 'mount "proc" on /proc'),
    ...(p.beforePivot ?? []),
    step('pivot-root', [p.rootfs], 'root.path', `pivot_root to ${p.rootfs}`),
    ...(p.afterPivot ?? []),
    step('close-fds', [firstFd]),
    step('resolve-exec', ['sh', '/bin:/usr/bin'], 'process.args', 'find sh'),
    step('ready'),
    ...(p.afterReady ?? []),
    step('exec', [3, 'sh', '-c', p.script, env.length, ...env], 'process.args', 'exec sh'),
  ];
}

/** A temp dir for one test file; `rootfs()` makes a fresh busybox rootfs in it. */
export class NativeScratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'skiff-native-'));
  private count = 0;
  private pids: number[] = [];

  rootfs(): string {
    const dir = join(this.dir, `rootfs-${this.count++}`);
    makeBusyboxRootfs(dir);
    return dir;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** launch(), remembering the pids it started so cleanup can kill whatever a failed test left running. */
  async launch(opts: LaunchOptions): Promise<Launched> {
    const launched = await launch(opts);
    this.pids.push(launched.pid, launched.helperPid);
    return launched;
  }

  /** Runs a `wait` plan with stdout and stderr to a file; resolves with the exit and the output. */
  async run(opts: Omit<LaunchOptions, 'stdio'>, stdin: 'ignore' | number = 'ignore') {
    const outPath = join(this.dir, `out-${this.count++}.txt`);
    const fd = openSync(outPath, 'w');
    try {
      const launched = await this.launch({ ...opts, stdio: [stdin, fd, fd] });
      const exit = await launched.exit!;
      return { ...exit, out: readFileSync(outPath, 'utf8'), launched };
    } finally {
      closeSync(fd);
    }
  }

  track(pid: number): void {
    this.pids.push(pid);
  }

  cleanup(): void {
    // A launch that failed early reports pid 0; kill(0) would signal our own process group (kill(2)).
    for (const pid of this.pids.filter((p) => p > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits (without a time assertion: the test runner's timeout bounds it) until `check` is true. */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

export function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** The status fields of /proc/PID/status as a map ("CapEff" -> "0000000000000021"). */
export function statusFields(text: string): Map<string, string> {
  return new Map(text.split('\n').filter((l) => l.includes(':')).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  }));
}

export function python(script: string, args: string[] = []): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
  return r.stdout;
}
