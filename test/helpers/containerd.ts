// Debian's containerd for a test, all of it under the test's directory: root, state, the gRPC and ttrpc sockets,
// the opt plugin's directory (else /opt/containerd on the host). Other engineers' daemons never see it.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime, waitProcessGone } from '../../src/runtime/proc.js';

export interface TestContainerd {
  socket: string;
  /** `ctr` against this daemon in `namespace`. */
  ctr(namespace: string, ...args: string[]): { code: number | null; out: string; err: string };
  /** The last of what the daemon logged (for a failing test's message). */
  log(): string;
  /** Stops the daemon, then kills any shim of it still running (shims outlive containerd; a failed test leaves them). */
  stop(): Promise<void>;
}

interface Shim {
  pid: number;
  namespace: string;
  id: string;
}

/** The runc shims started by the containerd listening on `socket`, found by their -address. */
function shimsOf(socket: string): Shim[] {
  const shims: Shim[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const flag = (name: string) => argv[argv.indexOf(name) + 1];
    if (!argv[0].endsWith('containerd-shim-runc-v2') || flag('-address') !== socket) continue;
    shims.push({ pid: Number(entry), namespace: flag('-namespace'), id: flag('-id') });
  }
  return shims;
}

async function killShim(socket: string, shim: Shim): Promise<void> {
  const started = await processStartTime(shim.pid);
  if (started !== undefined) {
    process.kill(shim.pid, 'SIGKILL');
    await waitProcessGone(shim.pid, started, 5_000);
  }
  // A shim removes its socket when it exits, unless killed. containerd 1.6 names it after its own address, the
  // namespace and the shim's id (runtime/v2/shim/util_unix.go, SocketAddress), always under /run/containerd/s.
  const name = createHash('sha256').update(join(socket, shim.namespace, shim.id)).digest('hex');
  rmSync(join('/run/containerd/s', name), { force: true });
}

export interface ContainerdConfig {
  disabledPlugins?: string[];
  /** More tables of config.toml (version 2), e.g. the CRI plugin's. */
  tables?: string[];
}

export async function startContainerd(dir: string, config: ContainerdConfig = {}): Promise<TestContainerd> {
  const socket = join(dir, 'containerd.sock');
  writeFileSync(join(dir, 'config.toml'), [
    'version = 2', `root = "${dir}/root"`, `state = "${dir}/state"`,
    `disabled_plugins = ${JSON.stringify(config.disabledPlugins ?? [])}`,
    '[grpc]', `  address = "${socket}"`, '[ttrpc]', `  address = "${socket}.ttrpc"`,
    // containerd 1.6's TOML parser refuses a [plugins."..."] table after other tables have come between two of them.
    '[plugins."io.containerd.internal.v1.opt"]', `  path = "${dir}/opt"`,
    ...config.tables ?? [],
  ].join('\n') + '\n');
  const daemon = spawn('containerd', ['--config', join(dir, 'config.toml'), '--log-level', 'info'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  daemon.stderr!.setEncoding('utf8').on('data', (d: string) => { log = (log + d).slice(-20_000); });
  const exited = new Promise((r) => daemon.on('exit', r));
  const ctr = (namespace: string, ...args: string[]) => {
    const r = spawnSync('ctr', ['--address', socket, '--namespace', namespace, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  for (let i = 0; ctr('default', 'version').code !== 0; i++) {
    if (i === 200 || daemon.exitCode !== null) {
      daemon.kill();
      await exited;
      throw new Error(`containerd did not start:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socket,
    ctr,
    log: () => log,
    async stop() {
      daemon.kill('SIGTERM');
      await exited;
      for (const shim of shimsOf(socket)) await killShim(socket, shim);
    },
  };
}
