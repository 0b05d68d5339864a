// skiffd started as its bin for a test: its own root, state and socket in a temp directory, its output in a file
// there (not a pipe: a test blocked in spawnSync would stop reading it, and a daemon writing its log synchronously
// would wait), stopped by SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const skiffdBin = fileURLToPath(new URL('../../bin/skiffd.cjs', import.meta.url));

export interface TestSkiffd {
  dir: string;
  root: string;
  state: string;
  socket: string;
  proc: ChildProcess;
  /** Everything skiffd printed so far (its log on stdout, and stderr). */
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts skiffd with `args` after the test's --root/--state/--socket; resolves once its socket answers. */
export async function startSkiffd(args: string[] = [], dir = mkdtempSync(join(tmpdir(), 'skiffd-test-'))): Promise<TestSkiffd> {
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const socket = join(dir, 'skiffd.sock');
  const logFile = join(dir, 'skiffd.log');
  const fd = openSync(logFile, 'w');
  // Through its #! line, as a user or systemd starts it (the launcher names skiffd's node flags).
  const proc = spawn(skiffdBin, ['--root', root, '--state', state, '--socket', socket, ...args], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const output = () => readFileSync(logFile, 'utf8');
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  for (let i = 0; !/"msg":"skiffd serving"/.test(output()); i++) {
    if (proc.exitCode !== null || i > 200) {
      // Not left running behind a caller that never got its handle.
      if (proc.exitCode === null) proc.kill('SIGKILL');
      throw new Error(`skiffd did not start: ${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir, root, state, socket, proc, output,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Stops it and removes its directory; the socket must be gone. */
export async function stopAndClean(s: TestSkiffd): Promise<void> {
  await s.stop();
  const left = existsSync(s.socket);
  rmSync(s.dir, { recursive: true, force: true });
  if (left) throw new Error(`skiffd left its socket ${s.socket}`);
}

export function readLog(s: TestSkiffd): Record<string, unknown>[] {
  return s.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

