// CNI network configurations (CNI SPEC.md "Configuration format"): .conflist files, and single-plugin .conf/.json
// files taken as a list of one, loaded from a directory in lexical order, with errors naming the file and field.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

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
  plugins: PluginConf[];
  /** Where it was read from, for error messages. */
  file: string;
}

export function parseNetworkConfig(text: string, file: string): NetworkConfigList {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SkiffError(`${file}: invalid JSON: ${(err as Error).message}`, 'EINVAL');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SkiffError(`${file}: must be a JSON object`, 'EINVAL');
  const list = Array.isArray(json.plugins)
    ? json
    : { cniVersion: json.cniVersion, name: json.name, plugins: [Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'cniVersion' && k !== 'name'))] };
  const problems: string[] = [];
  if (typeof list.name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(list.name)) problems.push('name: must be a network name (letters, digits, _ . -)');
  if (typeof list.cniVersion !== 'string') problems.push('cniVersion: is required');
  else if (!SUPPORTED_VERSIONS.includes(list.cniVersion)) problems.push(`cniVersion: "${list.cniVersion}" is not one of ${SUPPORTED_VERSIONS.join(', ')}`);
  const plugins = list.plugins as unknown[];
  if (!Array.isArray(plugins) || plugins.length === 0) problems.push('plugins: must list at least one plugin');
  else plugins.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || typeof (p as PluginConf).type !== 'string' || !/^[a-zA-Z0-9_.-]+$/.test((p as PluginConf).type)) {
      problems.push(`plugins[${i}].type: must name a plugin binary`);
    }
  });
  if (problems.length) throw new SkiffError(`${file}: ${problems.join('; ')}`, 'EINVAL');
  return { ...(list as Omit<NetworkConfigList, 'file'>), file };
}

/** Every network in `dir` (missing dir: none). A file that does not parse is an error naming it. */
export async function loadNetworks(dir: string): Promise<NetworkConfigList[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: NetworkConfigList[] = [];
  for (const n of names) out.push(parseNetworkConfig(await readFile(join(dir, n), 'utf8'), join(dir, n)));
  return out;
}

export async function findNetwork(dirs: string[], name: string): Promise<NetworkConfigList> {
  for (const dir of dirs) {
    const found = (await loadNetworks(dir)).find((n) => n.name === name);
    if (found) return found;
  }
  throw new SkiffError(`network "${name}" not found in ${dirs.join(', ')}`, 'ENOENT');
}
