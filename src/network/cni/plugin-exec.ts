// Runs one CNI plugin as the spec says (SPEC.md "Section 2: Execution Protocol"): parameters in CNI_* environment
// variables, the network configuration on stdin, the result or an error {code, msg, details} on stdout.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from '../../common/errors.js';
import { runProgram } from '../../native/program.js';

export const DEFAULT_PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
export const PLUGIN_TIMEOUT_MS = 60_000;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface PluginCall {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifName?: string;
  /** CNI_ARGS, in order: key=value pairs joined with ';' (IgnoreUnknown, K8S_POD_NAME, ...). */
  args?: [string, string][];
  /** The configuration the plugin reads on stdin. */
  config: Record<string, unknown>;
}

/** SPEC.md "Error": the well-known codes (0-99 are reserved for the spec). */
const ERROR_CODES: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
  50: 'the plugin is not available',
  51: 'the plugin is not available, and existing containers may have limited connectivity',
};

export async function findPlugin(type: string, dirs: string[]): Promise<string> {
  for (const dir of dirs) {
    const path = join(dir, type);
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  throw new SkiffError(`CNI plugin "${type}" not found in ${dirs.join(':')}`, 'ENOENT');
}

export class CniPluginError extends SkiffError {
  constructor(message: string, readonly cniCode: number | undefined, readonly details?: string) {
    super(message, 'ECNI');
  }
}

/** The plugin's error as one line: "msg (details) [code 7: invalid network config]", or its last stderr line. */
function describeError(parsed: Record<string, unknown> | null, stderr: string, exit: number | null): CniPluginError {
  const e = (parsed ?? {}) as { code?: unknown; msg?: unknown; details?: unknown };
  const code = typeof e.code === 'number' ? e.code : undefined;
  const msg = typeof e.msg === 'string' && e.msg ? e.msg : stderr.trim().split('\n').pop() || `exit status ${exit}`;
  const details = typeof e.details === 'string' && e.details ? e.details : undefined;
  const codeText = code === undefined ? '' : ` [code ${code}${ERROR_CODES[code] ? `: ${ERROR_CODES[code]}` : ''}]`;
  return new CniPluginError(`${msg}${details ? ` (${details})` : ''}${codeText}`.replace(/\s*\n\s*/g, ' '), code, details);
}

/** Runs the plugin and returns its parsed stdout (null when it printed nothing, as DEL may). */
export async function execPlugin(path: string, call: PluginCall, dirs: string[], timeoutMs = PLUGIN_TIMEOUT_MS): Promise<Record<string, unknown> | null> {
  const env: Record<string, string> = {
    CNI_COMMAND: call.command,
    CNI_PATH: dirs.join(':'),
    // Plugins run iptables, ip and tc; they find them on PATH.
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  };
  if (call.containerId !== undefined) env.CNI_CONTAINERID = call.containerId;
  if (call.netns !== undefined) env.CNI_NETNS = call.netns;
  if (call.ifName !== undefined) env.CNI_IFNAME = call.ifName;
  if (call.args?.length) env.CNI_ARGS = call.args.map(([k, v]) => `${k}=${v}`).join(';');
  const { code, stdout: out, stderr: err, timedOut } = await runProgram({ path, args: [], env, input: JSON.stringify(call.config), timeoutMs, stderrLimit: 4096 });
  if (timedOut) throw new CniPluginError(`no answer after ${timeoutMs / 1000}s (killed)`, undefined);
  let parsed: Record<string, unknown> | null = null;
  if (out.trim()) {
    try {
      parsed = JSON.parse(out);
    } catch {
      throw new CniPluginError(`printed something that is not JSON: ${out.slice(0, 200).replace(/\s+/g, ' ')}`, undefined);
    }
  }
  if (code !== 0) throw describeError(parsed, err, code);
  return parsed;
}
