// CNI network configurations (SPEC.md "Section 1: Network configuration format"): .conflist files, and
// single-plugin .conf/.json files taken as a list of one, loaded from a directory in lexical order (as libcni),
// with errors naming the file and the field.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface NetworkConfigList {
  cniVersion: string;
  cniVersions?: string[];
  name: string;
  disableCheck?: boolean;
  disableGC?: boolean;
  /**
   * skiff's own key, which CNI ignores: skiff masquerades the network's subnets with one rule each (masquerade.ts),
   * in place of the bridge plugin's ipMasq. Written by `network create` for a bridge.
   */
  skiffMasquerade?: boolean;
  plugins: PluginConf[];
  /** Where it was read from, for error messages. */
  file: string;
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/**
 * SPEC.md 1.1.0: with `cniVersions`, the runtime uses the highest version in the list it supports (`cniVersion`
 * is then what older runtimes read).
 */
function chooseVersion(list: Record<string, unknown>, problems: string[]): string | undefined {
  if (list.cniVersions !== undefined) {
    if (!Array.isArray(list.cniVersions) || !list.cniVersions.every((v) => typeof v === 'string')) {
      problems.push('cniVersions: must be a list of version strings');
      return undefined;
    }
    const ours = (list.cniVersions as string[]).filter((v) => SUPPORTED_VERSIONS.includes(v)).sort(compareVersions);
    if (ours.length) return ours[ours.length - 1];
    if (typeof list.cniVersion !== 'string') {
      problems.push(`cniVersions: none of ${list.cniVersions.join(', ')} is one of ${SUPPORTED_VERSIONS.join(', ')}`);
      return undefined;
    }
  }
  if (typeof list.cniVersion !== 'string') problems.push('cniVersion: is required');
  else if (!SUPPORTED_VERSIONS.includes(list.cniVersion)) problems.push(`cniVersion: "${list.cniVersion}" is not one of ${SUPPORTED_VERSIONS.join(', ')}`);
  else return list.cniVersion;
  return undefined;
}

function checkPlugin(p: unknown, i: number, problems: string[]): void {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    problems.push(`plugins[${i}]: must be an object`);
    return;
  }
  const plugin = p as Record<string, unknown>;
  if (typeof plugin.type !== 'string' || !/^[a-zA-Z0-9_.-]+$/.test(plugin.type) || plugin.type.startsWith('.')) {
    problems.push(`plugins[${i}].type: must name a plugin binary`);
  }
  const caps = plugin.capabilities;
  if (caps !== undefined && (typeof caps !== 'object' || caps === null || Array.isArray(caps) || !Object.values(caps).every((v) => typeof v === 'boolean'))) {
    problems.push(`plugins[${i}].capabilities: must map capability names to true or false`);
  }
}

export function parseNetworkConfig(text: string, file: string): NetworkConfigList {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SkiffError(`${file}: invalid JSON: ${(err as Error).message}`, 'EINVAL');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SkiffError(`${file}: must be a JSON object`, 'EINVAL');
  // A single-plugin config (.conf) is the plugin itself with name and cniVersion beside it.
  const single = json.plugins === undefined && json.type !== undefined;
  const list = single
    ? { cniVersion: json.cniVersion, name: json.name, plugins: [Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'cniVersion' && k !== 'name'))] }
    : json;
  const problems: string[] = [];
  if (typeof list.name !== 'string' || !NETWORK_NAME.test(list.name)) problems.push('name: must be a network name (letters, digits, _ . -)');
  const cniVersion = chooseVersion(list, problems);
  for (const flag of ['disableCheck', 'disableGC', 'skiffMasquerade']) {
    if (list[flag] !== undefined && typeof list[flag] !== 'boolean') problems.push(`${flag}: must be true or false`);
  }
  const plugins = list.plugins as unknown[];
  if (!Array.isArray(plugins) || plugins.length === 0) problems.push('plugins: must list at least one plugin');
  else plugins.forEach((p, i) => checkPlugin(p, i, problems));
  if (problems.length) throw new SkiffError(`${file}: ${problems.join('; ')}`, 'EINVAL');
  return { ...(list as Omit<NetworkConfigList, 'file'>), cniVersion: cniVersion!, file };
}

export interface LoadedNetworks {
  networks: NetworkConfigList[];
  /** Files that did not parse, each error naming its file and field. */
  broken: SkiffError[];
}

/** Every network in `dir` (missing dir: none); files that do not parse are set aside with their error. */
export async function loadNetworks(dir: string): Promise<LoadedNetworks> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { networks: [], broken: [] };
    throw err;
  }
  const out: LoadedNetworks = { networks: [], broken: [] };
  for (const n of names) {
    try {
      out.networks.push(parseNetworkConfig(await readFile(join(dir, n), 'utf8'), join(dir, n)));
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      out.broken.push(err);
    }
  }
  return out;
}

/** The first network called `name` in `dirs`; when there is none, a file that failed to parse may be why. */
export async function findNetwork(dirs: string[], name: string): Promise<NetworkConfigList> {
  const broken: SkiffError[] = [];
  for (const dir of dirs) {
    const loaded = await loadNetworks(dir);
    const found = loaded.networks.find((n) => n.name === name);
    if (found) return found;
    broken.push(...loaded.broken);
  }
  if (broken.length === 1) throw new SkiffError(`network "${name}": not found; ${broken[0].message}`, 'ENOENT');
  const also = broken.length ? ` (and ${broken.length} files did not parse: ${broken.map((b) => b.message).join('; ')})` : '';
  throw new SkiffError(`network "${name}" not found in ${dirs.join(', ')}${also}`, 'ENOENT');
}
