// docker create: a container's record, its name, its rootfs (prepared, not yet mounted) and its volumes; nothing
// runs. The config is checked whole first, every problem named; a failure half way removes what was made.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { release } from 'node:os';
import { SkiffError, ValidationError, type Problem } from '../common/errors.js';
import { UndoStack } from '../common/undo.js';
import { imageDefaults } from '../image/container-config.js';
import { localImage } from '../image/local-image.js';
import { prepareRootfs, removeRootfs } from '../image/rootfs.js';
import { capabilityBit } from '../oci/capabilities.js';
import { seccompFromProfileFile } from '../seccomp/docker-profile.js';
import type { ContainerConfig, MountRequest } from './container-config.js';
import type { ContainerRecord } from './container-record.js';
import { networkName } from './container-network.js';
import { DOCKER_DEFAULT_CAPS } from './container-spec.js';
import type { EngineContext } from './context.js';
import { checkName, generatedName, newContainerId } from './names.js';

export interface CreateRequest {
  /** The image as the user names it: a reference or an image ID. */
  image: string;
  name?: string;
  config: ContainerConfig;
  /** Pulls a missing image (the CLI shows docker's progress); without it a missing image is an error. */
  pullMissing?: (name: string) => Promise<void>;
}

/** docker's minimum memory limit (daemon/daemon_unix.go linuxMinMemory). */
const MIN_MEMORY = 6 * 1024 * 1024;

async function checkConfig(ctx: EngineContext, cfg: ContainerConfig): Promise<void> {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  for (const [flag, caps] of [['--cap-add', cfg.capAdd], ['--cap-drop', cfg.capDrop]] as const) {
    for (const c of caps) if (c !== 'ALL' && capabilityBit(c) === undefined) add(flag, `unknown capability "${c}"`);
  }
  if (cfg.autoRemove && cfg.restartPolicy.name !== 'no') add('--restart', 'conflicts with --rm: a container removed at exit cannot be restarted');
  if (['none', 'host'].includes(cfg.networkMode) && (cfg.publish.length || cfg.publishAll)) {
    add('-p', `ports cannot be published with --network ${cfg.networkMode}`);
  }
  if (!['none', 'host'].includes(cfg.networkMode)) {
    await ctx.network().networks.get(networkName(cfg.networkMode)).catch((err: Error) => add('--network', err.message));
  }
  if (cfg.resources.memory !== undefined && cfg.resources.memory < MIN_MEMORY) add('--memory', 'the minimum memory limit is 6MB');
  if (cfg.resources.memorySwap !== undefined && cfg.resources.memorySwap !== -1 && cfg.resources.memory !== undefined && cfg.resources.memorySwap < cfg.resources.memory) {
    add('--memory-swap', 'must be at least --memory (memory plus swap)');
  }
  const targets = new Set<string>();
  for (const m of cfg.mounts) {
    const where = m.type === 'tmpfs' ? '--tmpfs' : '--mount';
    if (!isAbsolute(m.target)) add(where, `destination "${m.target}" is not an absolute path`);
    else if (posix.normalize(m.target) === '/') add(where, 'the destination cannot be /');
    if (targets.has(posix.normalize(m.target))) add(where, `duplicate mount point ${m.target}`);
    targets.add(posix.normalize(m.target));
    if (m.type === 'bind') {
      if (!isAbsolute(m.source)) add(where, `bind source "${m.source}" is not an absolute path`);
      else if (!m.createSource && !existsSync(m.source)) add(where, `bind source path does not exist: ${m.source}`);
    }
  }
  if (cfg.seccomp && cfg.seccomp !== 'unconfined') {
    try {
      seccompFromProfileFile(cfg.seccomp.text, cfg.seccomp.file, DOCKER_DEFAULT_CAPS, release());
    } catch (err) {
      add('--security-opt seccomp', (err as Error).message);
    }
  }
  if (cfg.init && !ctx.initBinary()) add('--init', 'no init binary (catatonit) on this host: run scripts/setup.sh');
  if (cfg.runtime !== undefined) {
    try {
      ctx.checkRuntime(cfg.runtime);
    } catch (err) {
      add('--runtime', (err as Error).message);
    }
  }
  if (problems.length) throw new ValidationError('create', problems);
}

/** Reserves the given name, or a generated one. */
async function claimName(ctx: EngineContext, id: string, wanted: string | undefined): Promise<string> {
  if (wanted !== undefined) {
    const name = checkName(wanted);
    if (!(await ctx.records.reserveName(name, id))) {
      const holder = await ctx.records.idOfName(name);
      throw new SkiffError(`Conflict. The container name "/${name}" is already in use by container "${holder ?? '(being created)'}". You have to remove (or rename) that container to be able to reuse that name.`, 'EEXIST');
    }
    return name;
  }
  for (let retry = 0; retry < 20; retry++) {
    const name = generatedName(retry);
    if (await ctx.records.reserveName(name, id)) return name;
  }
  throw new SkiffError('could not find a free container name: give one with --name', 'EEXIST');
}

export async function createContainer(ctx: EngineContext, req: CreateRequest): Promise<ContainerRecord> {
  const cfg = req.config;
  await checkConfig(ctx, cfg);
  const image = await localImage(ctx.paths.root, req.image, { pullMissing: req.pullMissing });
  const defaults = imageDefaults(image.config);
  const id = newContainerId();
  const undo = new UndoStack();
  try {
    const name = await claimName(ctx, id, req.name);
    undo.push(`name ${name}`, () => ctx.records.releaseName(name, id));
    await mkdir(ctx.paths.containers, { recursive: true, mode: 0o711 });
    mkdirSync(ctx.paths.container(id), { mode: 0o711 });
    undo.push('container directory', () => removeRootfs(ctx.paths.root, id));
    // Held while the directory has no record: reconcile leaves a create in progress alone and clears a killed one.
    const rec = await ctx.records.lockedDirectory(id, async () => {
      // Kept with the container: a start needs no image store (rmi -f may untag the image; gc keeps its layers).
      writeFileSync(join(ctx.paths.container(id), 'image-config.json'), JSON.stringify(image.config));
      await prepareRootfs(ctx.paths.root, id, image.layers, { mount: false, log: ctx.warn });
      const mounts = await volumeMounts(ctx, cfg.mounts, defaults.volumes, undo);
      // docker -v makes a missing host directory (and leaves it when the container goes).
      for (const m of mounts) if (m.type === 'bind' && m.createSource && !existsSync(m.source)) mkdirSync(m.source, { recursive: true, mode: 0o755 });
      const made: ContainerRecord = {
        id, name, created: new Date().toISOString(),
        image: { input: req.image, name: image.name, id: image.id },
        config: { ...cfg, mounts },
        state: { status: 'created', restartCount: 0 },
      };
      await ctx.records.write(made);
      return made;
    });
    undo.commit();
    return rec;
  } catch (err) {
    await undo.rollback();
    throw err;
  }
}

/**
 * Named volumes made where missing (and removed again if create fails), and an anonymous volume for each VOLUME of
 * the image that no mount of the user's covers (docker does the same).
 */
async function volumeMounts(ctx: EngineContext, mounts: MountRequest[], imageVolumes: string[], undo: UndoStack): Promise<MountRequest[]> {
  const out: MountRequest[] = [];
  const covered = new Set(mounts.map((m) => posix.normalize(m.target)));
  const wanted: MountRequest[] = [...mounts, ...imageVolumes.filter((v) => !covered.has(posix.normalize(v))).map((target) => ({ type: 'volume' as const, target, readOnly: false }))];
  for (const m of wanted) {
    if (m.type !== 'volume') {
      out.push(m);
      continue;
    }
    const { volume, created } = await ctx.volumes.create(m.source);
    if (created) undo.push(`volume ${volume.name}`, () => ctx.volumes.remove(volume.name));
    out.push({ ...m, source: volume.name, anonymous: m.source === undefined });
  }
  return out;
}
