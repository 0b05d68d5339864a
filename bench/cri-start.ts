// skiffd's start-up and idle memory beside containerd 1.6's CRI plugin: from the process's spawn until the CRI's
// Version answers on its socket (polled with the same gRPC client for both), then the resident and
// private memory of the idle daemon after a few image calls. Each on an empty root of its own under a temporary
// directory, never the host's sockets. Node's own start (spawn to exit of `node -e 0`) is printed beside them: on a
// busy 2-core machine it is most of skiffd's. Root. Usage: node dist/bench/cri-start.js [RUNS]   (default 10)
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { criClient } from '../test/helpers/cri-client.js';

const RUNS = Number(process.argv[2] ?? 10);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'skiffd-start-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Started {
  proc: ChildProcess;
  socket: string;
}

function startSkiffd(dir: string): Started {
  const socket = join(dir, 'skiffd.sock');
  const out = openSync(join(dir, 'skiffd.log'), 'w');
  const proc = spawn(process.execPath, [join(REPO, 'dist/bin/skiffd.cjs'), '--root', join(dir, 'root'), '--state', join(dir, 'state'), '--socket', socket], { stdio: ['ignore', out, out] });
  closeSync(out);
  return { proc, socket };
}

function startContainerd(dir: string): Started {
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(config, [
    'version = 2', `root = "${dir}/root"`, `state = "${dir}/state"`,
    '[grpc]', `  address = "${socket}"`, '[ttrpc]', `  address = "${socket}.ttrpc"`,
    '[plugins."io.containerd.internal.v1.opt"]', `  path = "${dir}/opt"`,
  ].join('\n') + '\n');
  const out = openSync(join(dir, 'containerd.log'), 'w');
  const proc = spawn('containerd', ['--config', config], { stdio: ['ignore', out, out] });
  closeSync(out);
  return { proc, socket };
}

/** Whether something accepts connections on the unix socket. */
const accepting = (path: string) => new Promise<boolean>((resolve) => {
  const c = connect({ path }).once('connect', () => { c.destroy(); resolve(true); }).once('error', () => resolve(false));
});

/**
 * Milliseconds from spawn until Version answers. The socket is polled with plain connects first: a gRPC client
 * that failed to connect waits out a reconnect backoff (shared by every client of the address), which would be
 * measured instead of the daemon.
 */
async function timeToVersion(s: Started, spawned: number): Promise<number> {
  for (;;) {
    if (s.proc.exitCode !== null) throw new Error(`the daemon exited (${s.proc.exitCode}) before answering`);
    if (await accepting(s.socket)) {
      const cri = criClient(s.socket);
      const answered = await cri.runtime.Version({ version: 'v1' }).then(() => true, () => false);
      cri.close();
      if (answered) return performance.now() - spawned;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resident and private (anonymous + file-backed dirty) memory, KiB, from /proc (proc(5): smaps_rollup). */
function memory(pid: number): { rss: number; private: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return { rss: field('Rss'), private: field('Private_Clean') + field('Private_Dirty') };
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
}

async function measure(name: string, start: (dir: string) => Started) {
  const times: number[] = [];
  const mem: { rss: number; private: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(work, `${name}-`));
    const spawned = performance.now();
    const s = start(dir);
    try {
      times.push(await timeToVersion(s, spawned));
      const cri = criClient(s.socket);
      await cri.runtime.Status({});
      await cri.image.ListImages({});
      await cri.image.ImageFsInfo({});
      cri.close();
      await new Promise((r) => setTimeout(r, 1000));
      mem.push(memory(s.proc.pid!));
    } finally {
      await stop(s);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { time: median(times), rss: median(mem.map((m) => m.rss)), private: median(mem.map((m) => m.private)) };
}

/** Median milliseconds from spawn to exit of `node -e 0`. */
async function nodeStart(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await new Promise((r) => spawn(process.execPath, ['-e', '0']).once('exit', r));
    times.push(performance.now() - t);
  }
  return median(times);
}

try {
  const node = await nodeStart();
  const skiffd = await measure('skiffd', startSkiffd);
  const containerd = await measure('containerd', startContainerd);
  const row = (n: string, r: typeof skiffd) => `${n.padEnd(12)} ${r.time.toFixed(0).padStart(6)} ms ${String(r.rss).padStart(8)} KiB ${String(r.private).padStart(8)} KiB`;
  console.log(`CRI start-up and idle memory, medians of ${RUNS} runs (spawn -> Version answers, polled every 20 ms; after Status, ListImages, ImageFsInfo and 1 s idle)`);
  console.log(`${''.padEnd(12)} ${'start'.padStart(9)} ${'RSS'.padStart(12)} ${'private'.padStart(12)}`);
  console.log(row('skiffd', skiffd));
  console.log(row('containerd', containerd));
  console.log(`node -e 0: ${node.toFixed(0)} ms (Node's own start, included in skiffd's)`);
  console.log(`skiffd/containerd: start ${(skiffd.time / containerd.time).toFixed(2)}x, RSS ${(skiffd.rss / containerd.rss).toFixed(2)}x, private ${(skiffd.private / containerd.private).toFixed(2)}x`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
