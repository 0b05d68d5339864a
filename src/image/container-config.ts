// Image config -> the container's runtime spec: entrypoint and cmd, env, working directory, user (names resolved
// against the image's /etc/passwd and /etc/group), as docker and podman apply them over runc's default spec.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { defaultSpec } from '../oci/default-spec.js';
import type { Spec } from '../oci/runtime-spec.js';

export interface ImageConfig {
  config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string; User?: string; StopSignal?: string; Labels?: Record<string, string> };
}

export interface RunOverrides {
  command?: string[];
  entrypoint?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  hostname: string;
}

function lookup(file: string, name: string, field: number): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const parts = line.split(':');
      if (parts[0] === name) return Number(parts[field]);
    }
  } catch {
    // no such file in the image
  }
  return undefined;
}

/** "uid", "uid:gid", "name", "name:group" against the image's own account files. */
export function resolveUser(user: string, rootfs: string): { uid: number; gid: number } {
  const [u, g] = user.split(':');
  const uid = /^\d+$/.test(u) ? Number(u) : lookup(join(rootfs, 'etc/passwd'), u, 2);
  if (uid === undefined) throw new SkiffError(`user "${u}" is not in the image's /etc/passwd`, 'EINVAL');
  let gid: number | undefined;
  if (g !== undefined) {
    gid = /^\d+$/.test(g) ? Number(g) : lookup(join(rootfs, 'etc/group'), g, 2);
    if (gid === undefined) throw new SkiffError(`group "${g}" is not in the image's /etc/group`, 'EINVAL');
  } else {
    gid = /^\d+$/.test(u) ? (lookup(join(rootfs, 'etc/passwd'), u, 3) ?? 0) : lookup(join(rootfs, 'etc/passwd'), u, 3) ?? 0;
  }
  return { uid, gid };
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map(base.map((e) => [e.split('=')[0], e]));
  for (const e of extra) {
    if (!e.includes('=')) throw new SkiffError(`-e ${e}: expected KEY=VALUE`, 'EINVAL');
    out.set(e.split('=')[0], e);
  }
  return [...out.values()];
}

export function containerSpec(image: ImageConfig, rootfs: string, o: RunOverrides): Spec {
  const c = image.config ?? {};
  const entrypoint = o.entrypoint ?? c.Entrypoint ?? [];
  const cmd = o.command?.length ? o.command : (o.entrypoint ? [] : c.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new SkiffError('the image has no entrypoint or command: give one', 'EINVAL');
  const spec = defaultSpec();
  const proc = spec.process!;
  proc.terminal = false;
  proc.args = args;
  proc.env = mergeEnv(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=' + o.hostname], [...(c.Env ?? []), ...(o.env ?? [])]);
  proc.cwd = o.workdir ?? (c.WorkingDir || '/');
  const user = o.user ?? c.User;
  proc.user = user ? resolveUser(user, rootfs) : { uid: 0, gid: 0 };
  spec.root = { path: rootfs, readonly: false };
  spec.hostname = o.hostname;
  if (c.Labels) spec.annotations = { ...c.Labels };
  return spec;
}
