// The CNI client (SPEC.md "Section 3: Execution of Network Configurations"): chains a network's plugins for ADD,
// each getting the previous result; runs DEL in reverse with the cached result; CHECK, STATUS and GC where the
// network's version has them. An ADD failing half way DELs what it added.
import { statfsSync } from 'node:fs';
import { SkiffError } from '../../common/errors.js';
import { ResultCache } from './cache.js';
import type { RuntimeConfig } from './runtime-config.js';
import { compareVersions, type NetworkConfigList, type PluginConf } from './config.js';
import { convertResult, parseResult, type CniResult } from './result.js';
import { CniPluginError, DEFAULT_PLUGIN_DIRS, execPlugin, findPlugin, type CniCommand } from './plugin-exec.js';

export interface Attachment {
  containerId: string;
  /** Path of the network namespace (a pinned netns file, or /proc/PID/ns/net). */
  netns: string;
  ifName: string;
  /** CNI_ARGS, e.g. K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID for pods. */
  args?: Record<string, string>;
  /** Values for the capabilities plugins declare; each plugin gets only those it declared. */
  runtimeConfig?: RuntimeConfig;
}

export interface CniClientOptions {
  pluginDirs?: string[];
  /** The result cache (under skiff's root). */
  cacheDir: string;
  /** Per plugin call; the plugin is killed when it runs longer. */
  timeoutMs?: number;
  /** Called after each plugin process with its wall time (tracing, and the benchmark's client-overhead figure). */
  onPluginCall?: (type: string, command: CniCommand, ms: number) => void;
}

type CallArgs = Pick<Attachment, 'containerId' | 'netns' | 'ifName'> & { cniArgs?: [string, string][]; runtimeConfig?: RuntimeConfig };

/** CNI_ARGS as libcni passes them: IgnoreUnknown=1 first, so plugins that do not know K8S_POD_* accept them. */
function cniArgs(args: Record<string, string> | undefined): [string, string][] | undefined {
  if (!args || !Object.keys(args).length) return undefined;
  for (const [k, v] of Object.entries(args)) {
    if (!/^[A-Za-z0-9_]+$/.test(k) || /[;=]/.test(v)) throw new SkiffError(`CNI_ARGS: "${k}=${v}" has a ';' or '=' where it cannot`, 'EINVAL');
  }
  return [['IgnoreUnknown', '1'], ...Object.entries(args).filter(([k]) => k !== 'IgnoreUnknown')];
}

/** NSFS_MAGIC (linux/magic.h): statfs(2) of a namespace file, bound or under /proc/PID/ns. */
const NSFS_MAGIC = 0x6e736673;

function isNamespace(path: string): boolean {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

export class CniClient {
  readonly pluginDirs: string[];
  readonly cache: ResultCache;

  constructor(private readonly opts: CniClientOptions) {
    this.pluginDirs = opts.pluginDirs ?? DEFAULT_PLUGIN_DIRS;
    this.cache = new ResultCache(opts.cacheDir);
  }

  /** Capabilities in `rc` that no plugin of the network declares: a caller should not pass values nobody reads. */
  static undeclared(net: NetworkConfigList, rc: RuntimeConfig | undefined): string[] {
    const declared = new Set(net.plugins.flatMap((p) => Object.entries(p.capabilities ?? {}).filter(([, on]) => on).map(([c]) => c)));
    return Object.keys(rc ?? {}).filter((k) => rc![k] !== undefined && !declared.has(k));
  }

  /**
   * The stdin of one plugin (SPEC.md "Deriving execution configuration from plugin configuration"): its own conf
   * plus the network's name and cniVersion, runtimeConfig for the capabilities it declared, and prevResult.
   */
  private pluginConfig(net: NetworkConfigList, plugin: PluginConf, rc: RuntimeConfig | undefined, prevResult?: CniResult): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, name: net.name, cniVersion: net.cniVersion };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
      if (on && rc?.[cap] !== undefined) runtimeConfig[cap] = rc[cap];
    }
    if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
    if (prevResult) conf.prevResult = convertResult(prevResult, net.cniVersion);
    return conf;
  }

  private async pluginPath(net: NetworkConfigList, i: number): Promise<string> {
    try {
      return await findPlugin(net.plugins[i].type, this.pluginDirs);
    } catch (err) {
      throw new SkiffError(`${net.file}: plugins[${i}].type: ${(err as Error).message}`, 'ENOENT');
    }
  }

  private async call(command: CniCommand, net: NetworkConfigList, i: number, a: CallArgs | undefined, conf: Record<string, unknown>) {
    const path = await this.pluginPath(net, i);
    const type = net.plugins[i].type;
    // Not performance.now(): the first use of that global loads node:perf_hooks, 5 ms of a CLI command's start.
    const t0 = process.hrtime.bigint();
    try {
      return await execPlugin(path, {
        command, config: conf, containerId: a?.containerId, ifName: a?.ifName, args: a?.cniArgs,
        // SPEC.md DEL: CNI_NETNS may be empty when the namespace is already gone; the plugin must still clean up.
        // A pin file a killed start made but never bound is no namespace either (plugins refuse its FS magic).
        netns: a && (command !== 'DEL' || isNamespace(a.netns)) ? a.netns : undefined,
      }, this.pluginDirs, this.opts.timeoutMs);
    } catch (err) {
      if (!(err instanceof CniPluginError)) throw err;
      throw new CniPluginError(`network ${net.name} (${net.file}): plugins[${i}] (${type}) ${command} failed: ${err.message}`, err.cniCode, err.details);
    } finally {
      this.opts.onPluginCall?.(type, command, Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }

  async add(net: NetworkConfigList, a: Attachment): Promise<CniResult> {
    if (await this.cache.get(net.name, a.containerId, a.ifName)) {
      throw new SkiffError(`network ${net.name}: ${a.containerId} is already attached as ${a.ifName} (detach it first)`, 'EEXIST');
    }
    // Every plugin must exist before the first one changes anything.
    for (const i of net.plugins.keys()) await this.pluginPath(net, i);
    const call: CallArgs = { ...a, cniArgs: cniArgs(a.args) };
    const { file: _file, ...config } = net;
    const entry = {
      kind: 'cniCacheV1' as const, containerId: a.containerId, networkName: net.name, ifName: a.ifName, netns: a.netns,
      config, cniArgs: call.cniArgs, capabilityArgs: a.runtimeConfig,
    };
    await this.cache.put(entry);
    let prev: CniResult | undefined;
    let ran = 0;
    try {
      for (const [i, plugin] of net.plugins.entries()) {
        ran = i + 1;
        const out = await this.call('ADD', net, i, call, this.pluginConfig(net, plugin, a.runtimeConfig, prev));
        if (out) {
          try {
            prev = convertResult(parseResult(out), net.cniVersion);
          } catch (err) {
            throw new SkiffError(`network ${net.name} (${net.file}): plugins[${i}] (${plugin.type}) ADD: ${(err as Error).message}`, 'EPROTO');
          }
        }
      }
      const result = prev ?? { cniVersion: net.cniVersion };
      await this.cache.put({ ...entry, result });
      return result;
    } catch (err) {
      // SPEC.md: when ADD fails the runtime must DEL, so plugins that succeeded (and the failing one, which may have
      // done part of its work) release what they made.
      try {
        await this.delPlugins(net, call, prev, ran);
        await this.cache.remove(net.name, a.containerId, a.ifName);
      } catch (delErr) {
        (err as Error).message += `; the DEL after it failed too, so the attachment stays cached for a later DEL: ${(delErr as Error).message}`;
      }
      throw err;
    }
  }

  /**
   * DEL on the first `count` plugins, last first; every plugin runs even when one before it fails. prevResult on
   * DEL came with 0.4.0 (libcni passes none to older networks either).
   */
  private async delPlugins(net: NetworkConfigList, a: CallArgs, result: CniResult | undefined, count: number): Promise<void> {
    const prev = compareVersions(net.cniVersion, '0.4.0') >= 0 ? result : undefined;
    const errors: string[] = [];
    for (let i = count - 1; i >= 0; i--) {
      try {
        await this.call('DEL', net, i, a, this.pluginConfig(net, net.plugins[i], a.runtimeConfig, prev));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length) throw new SkiffError(errors.join('; '), 'ECNI');
  }

  /** The configuration an attachment was added with, for a DEL after its network's file was removed. */
  async cachedConfig(network: string, containerId: string, ifName: string): Promise<NetworkConfigList | undefined> {
    const cached = await this.cache.get(network, containerId, ifName);
    return cached && { ...cached.config, file: `(cached in ${this.cache.dir})` };
  }

  /**
   * DEL is idempotent: it runs with the cached result and arguments when there are some, and succeeds when
   * nothing is left. The cache entry goes only when every plugin succeeded, so a failed DEL can be retried.
   */
  async del(net: NetworkConfigList, a: Attachment): Promise<void> {
    const cached = await this.cache.get(net.name, a.containerId, a.ifName);
    const call: CallArgs = {
      ...a, cniArgs: a.args ? cniArgs(a.args) : cached?.cniArgs, runtimeConfig: a.runtimeConfig ?? cached?.capabilityArgs,
    };
    for (const i of net.plugins.keys()) await this.pluginPath(net, i);
    await this.delPlugins(net, call, cached?.result, net.plugins.length);
    await this.cache.remove(net.name, a.containerId, a.ifName);
  }

  /** CHECK (0.4.0 and later): every plugin confirms the attachment is as the cached result says. */
  async check(net: NetworkConfigList, a: Pick<Attachment, 'containerId' | 'ifName' | 'netns'>): Promise<void> {
    if (compareVersions(net.cniVersion, '0.4.0') < 0) throw new SkiffError(`network ${net.name}: CHECK needs cniVersion 0.4.0 or later, not ${net.cniVersion}`, 'ENOTSUP');
    if (net.disableCheck) return;
    const cached = await this.cache.get(net.name, a.containerId, a.ifName);
    if (!cached?.result) throw new SkiffError(`network ${net.name}: ${a.containerId} is not attached as ${a.ifName} (no cached result)`, 'ENOENT');
    const call: CallArgs = { ...a, cniArgs: cached.cniArgs, runtimeConfig: cached.capabilityArgs };
    for (const [i, plugin] of net.plugins.entries()) {
      await this.call('CHECK', net, i, call, this.pluginConfig(net, plugin, cached.capabilityArgs, cached.result));
    }
  }

  /** STATUS (1.1.0): whether the network is ready for ADDs; older versions have no STATUS and are taken as ready. */
  async status(net: NetworkConfigList): Promise<void> {
    if (compareVersions(net.cniVersion, '1.1.0') < 0) return;
    for (const [i, plugin] of net.plugins.entries()) await this.call('STATUS', net, i, undefined, this.pluginConfig(net, plugin, undefined));
  }

  /**
   * GC: first DEL every cached attachment of the network that is not in `valid` (as libcni does), then, for
   * 1.1.0 networks, the GC command so each plugin releases what it holds for anything else, e.g. addresses leaked
   * by a crash between a plugin's ADD and the cache write.
   */
  async gc(net: NetworkConfigList, valid: { containerId: string; ifName: string }[]): Promise<void> {
    const keep = new Set(valid.map((v) => `${v.containerId}/${v.ifName}`));
    const errors: string[] = [];
    for (const stale of await this.cache.list({ network: net.name })) {
      if (keep.has(`${stale.containerId}/${stale.ifName}`)) continue;
      await this.del(net, { containerId: stale.containerId, ifName: stale.ifName, netns: stale.netns }).catch((err: Error) => errors.push(err.message));
    }
    if (compareVersions(net.cniVersion, '1.1.0') >= 0 && !net.disableGC) {
      const attachments = valid.map((v) => ({ containerID: v.containerId, ifname: v.ifName }));
      for (const [i, plugin] of net.plugins.entries()) {
        // SPEC.md names the key cni.dev/valid-attachments; libcni also sends cni.dev/attachments for plugins
        // written against an earlier draft.
        const conf = { ...this.pluginConfig(net, plugin, undefined), 'cni.dev/valid-attachments': attachments, 'cni.dev/attachments': attachments };
        await this.call('GC', net, i, undefined, conf).catch((err: Error) => errors.push(err.message));
      }
    }
    if (errors.length) throw new SkiffError(errors.join('; '), 'ECNI');
  }

  /** VERSION: the spec versions a plugin supports. */
  async version(type: string): Promise<string[]> {
    const path = await findPlugin(type, this.pluginDirs);
    const out = await execPlugin(path, { command: 'VERSION', config: { cniVersion: '1.0.0' } }, this.pluginDirs, this.opts.timeoutMs);
    const versions = (out as { supportedVersions?: unknown } | null)?.supportedVersions;
    return Array.isArray(versions) ? versions.filter((v): v is string => typeof v === 'string') : [];
  }
}
