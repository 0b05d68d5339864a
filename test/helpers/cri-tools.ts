// crictl and critest (kubernetes-sigs/cri-tools), and a registry of the test's own serving the images CRI tests
// pull (test/cri: the images critest asks for, a pause image, a plain busybox).
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock } from '../../src/common/lock.js';
import { processStartTime, waitProcessGone } from '../../src/runtime/proc.js';
import { spawnCollecting } from './async-child.js';
import { freePort, type TestRegistry } from './registry.js';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const criScripts = join(projectRoot, 'test', 'cri');
/** Where this workspace keeps the cri-tools binaries, which cannot be installed from Debian or npm. */
const sharedTools = join(projectRoot, '..', 'shared', 'tools', 'cri-tools');
/** The images, built once per machine (about 20 s) and kept for every later run. */
const imageCache = '/var/lib/skiff-test/cri-images';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** crictl or critest: $CRICTL / $CRITEST, else PATH, else ../shared/tools/cri-tools; never a silent skip. */
export function criTool(name: 'crictl' | 'critest'): string {
  const variable = name.toUpperCase();
  const given = process.env[variable];
  if (given) {
    if (!isExecutableFile(given)) throw new Error(`$${variable} is "${given}", which is not an executable file`);
    return given;
  }
  for (const dir of [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), sharedTools]) {
    if (isExecutableFile(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} not found: set $${variable} to its path, put it on PATH, or place it in ${sharedTools} ` +
    '(a kubernetes-sigs/cri-tools release)');
}

async function runScript(script: string, env: Record<string, string>): Promise<string> {
  const { done } = spawnCollecting('bash', [join(criScripts, script)], { env: { ...process.env, ...env } });
  const r = await done;
  if (r.code !== 0) throw new Error(`test/cri/${script} failed (exit ${r.code}):\n${(r.out + r.err).slice(-3000)}`);
  return r.out;
}

/** Runs start-registry.sh with its storage under `regDir`; returns the registry's pid once it answers. */
async function startRegistryScript(regDir: string, port: number): Promise<number> {
  mkdirSync(regDir, { recursive: true });
  await runScript('start-registry.sh', { PORT: String(port), REG_DIR: regDir });
  return Number(readFileSync(join(regDir, 'registry.pid'), 'utf8'));
}

/** The registry runs in a session of its own (setsid): not our child, so we wait for its pid to be gone. */
async function stopRegistry(pid: number): Promise<void> {
  const started = await processStartTime(pid);
  if (started === undefined) return;
  process.kill(pid, 'SIGTERM');
  if (!(await waitProcessGone(pid, started, 10_000))) throw new Error(`the test registry (pid ${pid}) did not exit on SIGTERM`);
}

/**
 * The cache directory whose `registry/data` is a registry's storage holding every image make-test-images.sh
 * pushes (and `work/oci` the layout they were built in). Keyed by the scripts' content; built under a lock by the
 * first test that needs it, in a directory renamed into place when complete, so a killed build leaves no half cache.
 */
async function builtImages(): Promise<string> {
  const key = createHash('sha256')
    .update(readFileSync(join(criScripts, 'make-test-images.sh')))
    .update(readFileSync(join(criScripts, 'start-registry.sh')))
    .digest('hex').slice(0, 16);
  const cached = join(imageCache, key);
  if (existsSync(join(cached, 'registry', 'data'))) return cached;
  mkdirSync(imageCache, { recursive: true });
  return withLock(join(imageCache, 'build.lock'), 'the CRI test image cache', async () => {
    if (existsSync(join(cached, 'registry', 'data'))) return cached; // built while we waited
    const building = `${cached}.building-${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    const port = await freePort();
    const pid = await startRegistryScript(join(building, 'registry'), port);
    try {
      await runScript('make-test-images.sh', { WORK: join(building, 'work'), REG: `127.0.0.1:${port}` });
    } finally {
      await stopRegistry(pid);
    }
    // What older scripts built, or a build that was killed: only the current images are kept.
    for (const name of readdirSync(imageCache)) {
      if (name !== basename(building) && name !== 'build.lock') rmSync(join(imageCache, name), { recursive: true, force: true });
    }
    renameSync(building, cached);
    return cached;
  }, 15 * 60_000);
}

/**
 * A registry on 127.0.0.1 and a free port, serving a private copy of the CRI test images: `cri-test/busybox:latest`
 * (a plain busybox), `cri-test/pause:latest` and `pause:3.6` (catatonit), and the images critest asks for under the
 * paths test/cri/make-test-images.sh lists.
 */
export async function startCriRegistry(): Promise<TestRegistry> {
  const cached = await builtImages();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cri-registry-'));
  let pid: number;
  const port = await freePort();
  try {
    const { done } = spawnCollecting('cp', ['-a', '--reflink=auto', join(cached, 'registry', 'data'), join(dir, 'data')]);
    const copied = await done;
    if (copied.code !== 0) throw new Error(`copying the cached test images: ${copied.err.trim()}`);
    pid = await startRegistryScript(dir, port);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      await stopRegistry(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
