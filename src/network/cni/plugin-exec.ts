// Runs one CNI plugin as the spec says (SPEC.md "Execution protocol"): parameters in CNI_* environment
// variables, the network configuration on stdin, the result or an error {code, msg, details} on stdout.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';

export const DEFAULT_PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
export const PLUGIN_TIMEOUT_MS = 60_000;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface PluginCall {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifName?: string;
  /** CNI_ARGS: key=value pairs (K8S_POD_NAME, IgnoreUnknown, ...). */
  args?: Record<string, string>;
  /** The configuration the plugin reads on stdin. */
  config: Record<string, unknown>;
}

export async function findPlugin(type: string, dirs: string[]): Promise<string> {
  for (const dir of dirs) {
    const path = join(dir, type);
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  throw new SkiffError(`CNI plugin "${type}" not found in ${dirs.join(':')}`, 'ENOENT');
}

export class CniPluginError extends SkiffError {
  constructor(message: string, readonly cniCode: number, readonly details?: string) {
    super(message, 'ECNI');
  }
}

/** Runs the plugin and returns its parsed stdout (null when it printed nothing, as DEL may). */
export async function execPlugin(path: string, call: PluginCall, dirs: string[], timeoutMs = PLUGIN_TIMEOUT_MS): Promise<Record<string, unknown> | null> {
  const env: Record<string, string> = {
    CNI_COMMAND: call.command,
    CNI_PATH: dirs.join(':'),
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  };
  if (call.containerId !== undefined) env.CNI_CONTAINERID = call.containerId;
  if (call.netns !== undefined) env.CNI_NETNS = call.netns;
  if (call.ifName !== undefined) env.CNI_IFNAME = call.ifName;
  if (call.args && Object.keys(call.args).length) env.CNI_ARGS = Object.entries(call.args).map(([k, v]) => `${k}=${v}`).join(';');
  const child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { if (err.length < 4096) err += d; });
  child.stdin.on('error', () => {});
  child.stdin.end(JSON.stringify(call.config));
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearTimeout(timer));
  const type = String(call.config.type ?? path);
  if (timedOut) throw new SkiffError(`CNI plugin ${type} ${call.command}: timed out after ${timeoutMs / 1000}s`, 'ETIMEDOUT');
  let parsed: Record<string, unknown> | null = null;
  if (out.trim()) {
    try {
      parsed = JSON.parse(out);
    } catch {
      throw new SkiffError(`CNI plugin ${type} ${call.command}: printed something that is not JSON: ${out.slice(0, 200)}`, 'EPROTO');
    }
  }
  if (code !== 0) {
    const e = (parsed ?? {}) as { code?: number; msg?: string; details?: string };
    const why = e.msg ? `${e.msg}${e.details ? ` (${e.details})` : ''}` : (err.trim().split('\n').pop() || `exit status ${code}`);
    throw new CniPluginError(`CNI plugin ${type} ${call.command} failed${e.code !== undefined ? ` (code ${e.code})` : ''}: ${why}`, e.code ?? 999, e.details);
  }
  return parsed;
}
