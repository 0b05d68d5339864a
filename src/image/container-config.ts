// Image config -> the container's runtime spec, as docker and podman apply an image over runc's default spec:
// entrypoint and cmd, env, working directory, user (names resolved against the image's own /etc/passwd and
// /etc/group, read inside the rootfs so an image's symlink cannot point the lookup at host files), HOME, labels
// and the stop signal as annotations. Exposed ports and volumes are returned for the caller (port mappings and
// volume mounts are not the runtime spec's business). Field names as in image-spec config.md.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { SkiffError, ValidationError, type Problem } from '../common/errors.js';
import { defaultSpec } from '../oci/default-spec.js';
import type { Spec } from '../oci/runtime-spec.js';
import { resolvePathInRoot } from './unpack/in-root.js';
import { byCodeUnits } from '../common/compare.js';

export interface ImageConfig {
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object> | null;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object> | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
  };
}

export interface RunOverrides {
  /** Replaces the image's Cmd (docker run IMAGE COMMAND...). */
  command?: string[];
  /** Replaces the image's Entrypoint, and then the image's Cmd is not used. */
  entrypoint?: string[];
  /** KEY=VALUE, added to or replacing the image's Env. */
  env?: string[];
  workdir?: string;
  /** user, uid, user:group, uid:gid. */
  user?: string;
  hostname: string;
  terminal?: boolean;
}

export interface ExposedPort {
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ImageDefaults {
  exposedPorts: ExposedPort[];
  volumes: string[];
  labels: Record<string, string>;
  stopSignal?: string;
}

/** Annotation carrying the image's StopSignal (image-spec annotations.md). */
export const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The image config's fields that are not the process: checked, every problem reported at once. */
export function imageDefaults(image: ImageConfig): ImageDefaults {
  const c = image.config ?? {};
  const problems: Problem[] = [];
  const exposedPorts: ExposedPort[] = [];
  for (const key of Object.keys(c.ExposedPorts ?? {})) {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) problems.push({ path: `config.ExposedPorts["${key}"]`, message: 'expected PORT or PORT/tcp|udp|sctp' });
    else exposedPorts.push({ port: Number(m[1]), protocol: (m[2] ?? 'tcp') as ExposedPort['protocol'] });
  }
  const volumes = Object.keys(c.Volumes ?? {});
  for (const v of volumes) if (!v.startsWith('/')) problems.push({ path: `config.Volumes["${v}"]`, message: 'not an absolute path' });
  let stopSignal: string | undefined;
  if (c.StopSignal) {
    const s = c.StopSignal.toUpperCase();
    const name = /^\d+$/.test(s) ? s : s.startsWith('SIG') ? s : `SIG${s}`;
    const known = /^\d+$/.test(name) ? Number(name) > 0 && Number(name) < 65 : name in constants.signals || /^SIGRTM(IN|AX)([+-]\d+)?$/.test(name);
    if (!known) problems.push({ path: 'config.StopSignal', message: `unknown signal "${c.StopSignal}"` });
    else stopSignal = name;
  }
  for (const [i, e] of (c.Env ?? []).entries()) if (!e.includes('=') || e.startsWith('=')) problems.push({ path: `config.Env[${i}]`, message: `"${e}" is not KEY=VALUE` });
  if (problems.length) throw new ValidationError('image config', problems);
  exposedPorts.sort((a, b) => a.port - b.port || byCodeUnits(a.protocol, b.protocol));
  return { exposedPorts, volumes, labels: { ...(c.Labels ?? {}) }, stopSignal };
}

interface Account {
  name: string;
  id: number;
  /** passwd: primary gid; group: unused. */
  gid: number;
  home: string;
  members: string[];
}

function accounts(rootfs: string, file: 'etc/passwd' | 'etc/group'): Account[] {
  const path = resolvePathInRoot(rootfs, file, `the image's /${file}`);
  let text: string;
  try {
    text = path === undefined ? '' : readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  // passwd(5): name:password:UID:GID:GECOS:directory:shell; group(5): group_name:password:GID:user_list.
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':')).map((f) => file === 'etc/passwd'
    ? { name: f[0], id: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/', members: [] }
    : { name: f[0], id: Number(f[2]), gid: 0, home: '', members: (f[3] ?? '').split(',').filter(Boolean) });
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** "user", "uid", "user:group", "uid:gid" against the image's account files, as docker resolves them. */
export function resolveUser(user: string, rootfs: string, field = 'user'): ResolvedUser {
  const [u, g, extra] = user.split(':');
  if (!u || extra !== undefined || g === '') throw new SkiffError(`${field}: "${user}" is not user[:group]`, 'EINVAL');
  const passwd = accounts(rootfs, 'etc/passwd');
  const numeric = /^\d+$/.test(u);
  const entry = passwd.find((p) => (numeric ? p.id === Number(u) : p.name === u));
  if (!numeric && !entry) throw new SkiffError(`${field}: user "${u}" is not in the image's /etc/passwd`, 'EINVAL');
  const uid = numeric ? Number(u) : entry!.id;
  const groups = accounts(rootfs, 'etc/group');
  let gid = entry?.gid ?? 0;
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grp = groups.find((x) => x.name === g);
      if (!grp) throw new SkiffError(`${field}: group "${g}" is not in the image's /etc/group`, 'EINVAL');
      gid = grp.id;
    }
  }
  // Supplementary groups: those listing the user by name, as initgroups(3) would find them.
  const additionalGids = entry && g === undefined ? groups.filter((x) => x.members.includes(entry.name) && x.id !== gid).map((x) => x.id) : [];
  return { uid, gid, additionalGids, home: entry?.home || '/' };
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map(base.map((e) => [e.slice(0, e.indexOf('=')), e]));
  for (const e of extra) {
    if (!e.includes('=') || e.startsWith('=')) throw new SkiffError(`-e ${e}: expected KEY=VALUE`, 'EINVAL');
    out.set(e.slice(0, e.indexOf('=')), e);
  }
  return [...out.values()];
}

/** The runtime spec for a container of `image` whose root filesystem is at `rootfs` (an absolute path). */
export function containerSpec(image: ImageConfig, rootfs: string, o: RunOverrides): Spec {
  const c = image.config ?? {};
  const defaults = imageDefaults(image);
  const entrypoint = o.entrypoint ?? c.Entrypoint ?? [];
  const cmd = o.command?.length ? o.command : o.entrypoint ? [] : c.Cmd ?? [];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new SkiffError('the image has no Entrypoint or Cmd: give a command', 'EINVAL');
  const workdir = o.workdir ?? (c.WorkingDir || '/');
  if (!workdir.startsWith('/')) throw new SkiffError(`${o.workdir !== undefined ? '-w' : 'config.WorkingDir'}: "${workdir}" is not an absolute path`, 'EINVAL');
  const user = resolveUser(o.user ?? c.User ?? '0', rootfs, o.user !== undefined ? '-u' : 'config.User');
  const spec = defaultSpec();
  const proc = spec.process!;
  proc.terminal = Boolean(o.terminal);
  proc.args = args;
  let env = mergeEnv([DEFAULT_PATH, `HOSTNAME=${o.hostname}`], [...(c.Env ?? []), ...(o.env ?? [])]);
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];
  if (o.terminal && !env.some((e) => e.startsWith('TERM='))) env = [...env, 'TERM=xterm'];
  proc.env = env;
  proc.cwd = workdir;
  proc.user = { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) };
  spec.root = { path: rootfs, readonly: false };
  spec.hostname = o.hostname;
  const annotations = { ...defaults.labels };
  if (defaults.stopSignal) annotations[STOP_SIGNAL_ANNOTATION] = defaults.stopSignal;
  if (Object.keys(annotations).length) spec.annotations = annotations;
  return spec;
}
