// What every engine operation works with: where things are, the records, the OCI runtimes (skiff's own, in-process,
// and the runtime handlers' binaries), volumes and (made on first use) the CNI networks. One per Engine; skiffd keeps
// one for its lifetime.
import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { LinuxDevice } from '../oci/runtime-spec.js';
import { NetnsStore } from '../network/netns.js';
import { Networks } from '../network/networks.js';
import { SkiffError } from '../common/errors.js';
import { isExecutableFile } from '../common/executable.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { OciBinaryRuntime } from '../runtime/oci-binary.js';
import { Runtime } from '../runtime/runtime.js';
import { ContainerRecords } from './container-record.js';
import type { NetworkServices } from './container-network.js';
import { EnginePaths } from './paths.js';
import { Volumes } from './volumes.js';
import { Waiters } from './waiters.js';

export interface EngineOptions {
  /** Persistent data (default /var/lib/skiff). */
  root: string;
  /** State a reboot takes (default /run/skiff). */
  state: string;
  /**
   * The command the monitor runs when a container exits (stdio /dev/null), given the container's ID: the engine's
   * cleanup in a process of its own (skiff container cleanup ID). None: exits are found by the next call.
   */
  exitCommand?: (id: string) => string[];
  /** Warnings (a teardown step that failed, a fallback taken). */
  warn?: (message: string) => void;
  /** CNI config and plugin directories besides skiff's own (tests). */
  cniConfDirs?: string[];
  cniPluginDirs?: string[];
  /** The static init binary for --init (default: catatonit where Debian installs it). */
  initBinary?: string;
  /**
   * Runtime handlers by name (Kubernetes RuntimeClass): the absolute path of another OCI runtime's binary (runc,
   * crun) that runs a container whose config names the handler, under the same monitor. Unnamed: skiff's own.
   */
  runtimes?: Record<string, string>;
}

const CATATONIT = ['/usr/bin/catatonit', '/usr/libexec/catatonit/catatonit'];

export class EngineContext {
  readonly paths: EnginePaths;
  readonly records: ContainerRecords;
  readonly runtime: Runtime;
  readonly volumes: Volumes;
  readonly waiters: Waiters;
  readonly warn: (message: string) => void;
  private net?: NetworkServices;
  private readonly handlers = new Map<string, OciBinaryRuntime>();

  constructor(readonly opts: EngineOptions) {
    this.paths = new EnginePaths(opts.root, opts.state);
    this.records = new ContainerRecords(this.paths);
    this.warn = opts.warn ?? ((m) => process.stderr.write(`skiff: warning: ${m}\n`));
    this.runtime = new Runtime({ root: this.paths.runtimeRoot, warn: this.warn });
    this.volumes = new Volumes(this.paths);
    this.waiters = new Waiters(this.paths);
  }

  /** The runtime that runs `rec`: its handler's, or skiff's own. */
  runtimeOf(rec: { config: { runtime?: string } }): ContainerRuntime {
    return rec.config.runtime ? this.handler(rec.config.runtime) : this.runtime;
  }

  /** Every runtime a container may be in: skiff's own, each configured handler, each one a container ran under. */
  allRuntimes(): ContainerRuntime[] {
    const names = new Set(Object.keys(this.opts.runtimes ?? {}));
    for (const dir of existsSync(this.paths.handlers) ? readdirSync(this.paths.handlers) : []) names.add(decodeURIComponent(dir));
    return [this.runtime, ...[...names].map((name) => this.handler(name))];
  }

  /**
   * The runtime `name` a new container may name: a configured handler (skiffd's runtimeHandlers), or the absolute
   * path of a runtime's binary (skiff run --runtime, as podman's), which must be an executable file. Throws for any
   * other name, naming the configured.
   */
  checkRuntime(name: string): OciBinaryRuntime {
    const binary = isAbsolute(name) ? name : this.opts.runtimes?.[name];
    if (!binary) {
      const known = Object.keys(this.opts.runtimes ?? {});
      throw new SkiffError(`runtime "${name}" is not configured (${known.length ? `configured: ${known.join(', ')}` : 'none is'}): name another runtime's binary by its absolute path`, 'EINVAL');
    }
    if (!isExecutableFile(binary)) throw new SkiffError(`${binary} is not an executable file`, 'EINVAL');
    return this.handler(name);
  }

  /**
   * The handler `name` of an existing container. Besides the configured ones, a handler that ran a container is
   * known by the binary it recorded (OciBinaryRuntime.recordedBinary): a skiff CLI that has no handlers configured
   * can stop and remove what skiffd ran. After a reboot, which took the record, its containers are gone anyway.
   */
  handler(name: string): OciBinaryRuntime {
    let h = this.handlers.get(name);
    if (h) return h;
    h = new OciBinaryRuntime(name, this.binaryOf(name), this.paths.handlerRoot(name), () => this.runtime.host(), this.warn);
    this.handlers.set(name, h);
    return h;
  }

  private binaryOf(name: string): string | undefined {
    return isAbsolute(name) ? name : this.opts.runtimes?.[name] ?? OciBinaryRuntime.recordedBinary(this.paths.handlerRoot(name));
  }

  network(): NetworkServices {
    this.net ??= {
      networks: new Networks({ root: this.opts.root, state: this.opts.state, extraConfDirs: this.opts.cniConfDirs, pluginDirs: this.opts.cniPluginDirs }),
      netns: new NetnsStore(this.paths.netns),
    };
    return this.net;
  }

  initBinary(): string | undefined {
    return this.opts.initBinary ?? CATATONIT.find((p) => existsSync(p));
  }
}

/** The host's device nodes, for a privileged container (docker and podman give it every one under /dev). */
export function hostDevices(dir = '/dev'): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    // pts, shm and mqueue are the container's own mounts; symlinks name devices listed under their own name.
    if (e.isDirectory() && !['pts', 'shm', 'mqueue'].includes(e.name)) out.push(...hostDevices(path));
    if (!e.isCharacterDevice() && !e.isBlockDevice()) continue;
    out.push(deviceNode(path, statSync(path)));
  }
  return out;
}

/** A device node as the runtime spec describes it, from its stat. */
export function deviceNode(path: string, st: Stats): LinuxDevice {
  return {
    path, type: st.isCharacterDevice() ? 'c' : 'b', // makedev(3): the glibc encoding of a dev_t, as /dev's numbers are small enough for 32-bit arithmetic.
    major: (st.rdev >>> 8) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00),
    fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid,
  };
}
