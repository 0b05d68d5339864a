// Runs OCI hooks in the runtime namespace: the state document on stdin, the hook's own args (args[0] is argv[0],
// as execv) and env (nothing inherited), killed after `timeout` seconds (runtime-spec config.md, "POSIX-platform
// Hooks").
import { spawn } from 'node:child_process';
import { SkiffError } from '../common/errors.js';
import type { Hook, State } from '../oci/runtime-spec.js';

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export async function runHook(hook: Hook, state: State, field: string): Promise<void> {
  const args = hook.args ?? [hook.path];
  const child = spawn(hook.path, args.slice(1), {
    argv0: args[0] ?? hook.path,
    env: Object.fromEntries((hook.env ?? []).map((kv) => {
      const i = kv.indexOf('=');
      return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
    })),
    stdio: ['pipe', 'ignore', 'pipe'],
    cwd: '/',
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 4096) stderr += d; });
  child.stdin!.on('error', () => {}); // a hook that does not read its stdin is fine
  child.stdin!.end(JSON.stringify(state));

  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  if (hook.timeout !== undefined) {
    timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, hook.timeout * 1000);
  }
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  if (timer) clearTimeout(timer);

  const name = `hook ${hook.path} (${field})`;
  if (result.error) throw new SkiffError(`${name}: ${result.error.message}`);
  if (timedOut) throw new SkiffError(`${name}: timed out after ${hook.timeout}s`, 'ETIMEDOUT');
  if (result.code !== 0) {
    const how = result.signal ? `killed by ${result.signal}` : `exit status ${result.code}`;
    const detail = stderr.trim().split('\n').pop();
    throw new SkiffError(`${name}: ${how}${detail ? `: ${detail}` : ''}`);
  }
}

/** Runs hooks of one kind in order; the first failure stops and throws. */
export async function runHooks(hooks: Hook[] | undefined, kind: HookKind, state: State): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    await runHook(hook, state, `hooks.${kind}[${i}]`);
  }
}

/** Runs every hook of a kind even if some fail (poststart, poststop: the spec says log and go on). */
export async function runHooksLoggingFailures(
  hooks: Hook[] | undefined, kind: HookKind, state: State, warn: (msg: string) => void,
): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    try {
      await runHook(hook, state, `hooks.${kind}[${i}]`);
    } catch (err) {
      warn((err as Error).message);
    }
  }
}
