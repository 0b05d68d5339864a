// The CNI client: chains a network's plugins for ADD (each gets the previous result), runs DEL in reverse with the
// cached result, CHECK and STATUS where the version has them. An ADD failing half way DELs what it added.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SkiffError } from '../../common/errors.js';
import { ResultCache } from './cache.js';
import type { NetworkConfigList, PluginConf } from './config.js';
import { convertResult, type CniResult } from './result.js';
import { DEFAULT_PLUGIN_DIRS, execPlugin, findPlugin, type CniCommand } from './plugin-exec.js';

export interface Attachment {
  containerId: string;
  /** Path of the network namespace (a pinned netns file, or /proc/PID/ns/net). */
  netns: string;
  ifName: string;
  /** CNI_ARGS, e.g. K8S_POD_NAMESPACE, K8S_POD_NAME for pods. */
  args?: Record<string, string>;
  /** Values for the capabilities plugins declare: portMappings, bandwidth, ips, mac, dns, cgroupPath ... */
  capabilityArgs?: Record<string, unknown>;
}

export interface CniClientOptions {
  pluginDirs?: string[];
  /** The result cache (under skiff's root). */
  cacheDir: string;
  timeoutMs?: number;
  /** Called after each plugin process with its wall time (tracing, and the benchmark's client-overhead figure). */
  onPluginCall?: (type: string, command: CniCommand, ms: number) => void;
}

const atLeast = (v: string, min: string) => {
  const [a, b] = [v, min].map((x) => x.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

export class CniClient {
  readonly pluginDirs: string[];
  readonly cache: ResultCache;

  constructor(private readonly opts: CniClientOptions) {
    this.pluginDirs = opts.pluginDirs ?? DEFAULT_PLUGIN_DIRS;
    this.cache = new ResultCache(opts.cacheDir);
  }

  /** The stdin of one plugin: its own conf plus name, version, prevResult and the runtimeConfig it asked for. */
  private pluginConfig(net: NetworkConfigList, plugin: PluginConf, a: Attachment, prevResult?: CniResult): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, name: net.name, cniVersion: net.cniVersion };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
      if (on && a.capabilityArgs?.[cap] !== undefined) runtimeConfig[cap] = a.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
    if (prevResult) conf.prevResult = prevResult;
    return conf;
  }

  private async call(command: CniCommand, plugin: PluginConf, a: Attachment | undefined, conf: Record<string, unknown>) {
    const path = await findPlugin(plugin.type, this.pluginDirs);
    const t0 = performance.now();
    try {
      return await execPlugin(path, {
        command, config: conf, containerId: a?.containerId, ifName: a?.ifName, args: a?.args,
        netns: a && (command !== 'DEL' || existsSync(a.netns)) ? a.netns : undefined,
      }, this.pluginDirs, this.opts.timeoutMs);
    } finally {
      this.opts.onPluginCall?.(plugin.type, command, performance.now() - t0);
    }
  }

  async add(net: NetworkConfigList, a: Attachment): Promise<CniResult> {
    // Every plugin must exist before the first one changes anything.
    for (const p of net.plugins) await findPlugin(p.type, this.pluginDirs);
    let prev: CniResult | undefined;
    const done: number[] = [];
    try {
      for (const [i, plugin] of net.plugins.entries()) {
        const out = await this.call('ADD', plugin, a, this.pluginConfig(net, plugin, a, prev));
        if (out) prev = convertResult(out as CniResult, net.cniVersion);
        done.push(i);
      }
    } catch (err) {
      // SPEC.md: a runtime that gets an error from ADD must DEL, so the plugins that succeeded release what they made.
      await this.delPlugins(net, a, prev, done.concat(done.length < net.plugins.length ? [done.length] : [])).catch(() => {});
      throw err;
    }
    const result = prev ?? { cniVersion: net.cniVersion };
    await this.cache.put({
      kind: 'cniCacheV1', containerId: a.containerId, networkName: net.name, ifName: a.ifName, netns: a.netns,
      config: { ...net, file: undefined }, cniArgs: a.args, capabilityArgs: a.capabilityArgs, result,
    });
    return result;
  }

  private async delPlugins(net: NetworkConfigList, a: Attachment, prev: CniResult | undefined, indexes: number[]): Promise<void> {
    const errors: string[] = [];
    for (const i of [...indexes].reverse()) {
      try {
        await this.call('DEL', net.plugins[i], a, this.pluginConfig(net, net.plugins[i], a, prev));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length) throw new SkiffError(errors.join('; '), 'ECNI');
  }

  /** DEL is idempotent: with the cached result and arguments when there are some, and fine when nothing is left. */
  async del(net: NetworkConfigList, a: Attachment): Promise<void> {
    const cached = await this.cache.get(net.name, a.containerId, a.ifName);
    const attachment = cached ? { ...a, args: a.args ?? cached.cniArgs, capabilityArgs: a.capabilityArgs ?? cached.capabilityArgs } : a;
    for (const p of net.plugins) await findPlugin(p.type, this.pluginDirs);
    await this.delPlugins(net, attachment, cached?.result, net.plugins.map((_, i) => i));
    await this.cache.remove(net.name, a.containerId, a.ifName);
  }

  /** CHECK (0.4.0 and later): every plugin confirms the attachment is as the cached result says. */
  async check(net: NetworkConfigList, a: Attachment): Promise<void> {
    if (!atLeast(net.cniVersion, '0.4.0')) throw new SkiffError(`network ${net.name}: CHECK needs cniVersion 0.4.0 or later, not ${net.cniVersion}`, 'ENOTSUP');
    if (net.disableCheck) return;
    const cached = await this.cache.get(net.name, a.containerId, a.ifName);
    if (!cached) throw new SkiffError(`network ${net.name}: ${a.containerId} is not attached (no cached result)`, 'ENOENT');
    for (const plugin of net.plugins) {
      await this.call('CHECK', plugin, { ...a, args: cached.cniArgs, capabilityArgs: cached.capabilityArgs }, this.pluginConfig(net, plugin, a, cached.result));
    }
  }

  /** STATUS (1.1.0): whether the network is ready for ADDs; older versions have no STATUS and are taken as ready. */
  async status(net: NetworkConfigList): Promise<void> {
    if (!atLeast(net.cniVersion, '1.1.0')) return;
    for (const plugin of net.plugins) await this.call('STATUS', plugin, undefined, { ...plugin, name: net.name, cniVersion: net.cniVersion });
  }

  /**
   * GC (1.1.0): each plugin releases whatever it holds for attachments not in `valid` (container id and
   * interface pairs), e.g. addresses leaked by a crash between ADD and the cache write.
   */
  async gc(net: NetworkConfigList, valid: { containerId: string; ifName: string }[]): Promise<void> {
    if (!atLeast(net.cniVersion, '1.1.0') || net.disableGC) return;
    const attachments = valid.map((v) => ({ containerID: v.containerId, ifname: v.ifName }));
    for (const plugin of net.plugins) {
      await this.call('GC', plugin, undefined, { ...plugin, name: net.name, cniVersion: net.cniVersion, 'cni.dev/valid-attachments': attachments });
    }
  }

  /** VERSION: the spec versions a plugin supports. */
  async version(type: string): Promise<string[]> {
    const out = await execPlugin(await findPlugin(type, this.pluginDirs), { command: 'VERSION', config: { cniVersion: '1.0.0' } }, this.pluginDirs, this.opts.timeoutMs);
    return ((out as { supportedVersions?: string[] } | null)?.supportedVersions) ?? [];
  }
}
