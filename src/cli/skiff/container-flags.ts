// docker run's and docker create's flags, declared once for both and turned into the engine's ContainerConfig.
// Every value is checked here, and a bad one is one error naming the flag (the engine checks what needs the host:
// networks, capabilities, bind sources). Flags docker has and skiff does not are not declared: commander then
// refuses them as unknown options.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { defaultContainerConfig, type ContainerConfig, type MountRequest, type PortRequest, type RestartPolicyName } from '../../engine/container-config.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export interface ContainerFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  publish: string[];
  publishAll?: boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  network: string;
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  shmSize?: string;
  readOnly?: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  stopSignal?: string;
  stopTimeout?: string;
  label: string[];
  init?: boolean;
  runtime?: string;
  restart: string;
  quiet?: boolean;
  /** A pod's name or ID, or new:NAME (skiff pod). */
  pod?: string;
}

/** Declares the flags on `cmd` (run adds -d and --rm's foreground meaning itself). */
export function containerOptions(cmd: Command): Command {
  return cmd
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--rm', 'automatically remove the container when it exits')
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'username or UID, and optionally group or GID')
    .option('--entrypoint <command>', "overwrite the image's ENTRYPOINT")
    .option('-h, --hostname <name>', 'container host name')
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', 'publish a container port to the host (repeatable)', collect, [])
    .option('-P, --publish-all', 'publish every exposed port to a free host port')
    .option('-v, --volume <[host-dir|name:]container-dir[:ro|rw]>', 'bind mount a host directory or a named volume (repeatable)', collect, [])
    .option('--mount <type=bind|volume|tmpfs,...>', 'attach a filesystem mount (repeatable)', collect, [])
    .option('--tmpfs <dir[:options]>', 'mount a tmpfs (repeatable)', collect, [])
    .option('--network <mode>', 'none, host, bridge (default) or a network name', 'bridge')
    .option('--dns <ip>', 'set a custom DNS server (repeatable)', collect, [])
    .option('--dns-search <domain>', 'set a custom DNS search domain (repeatable)', collect, [])
    .option('--dns-option <option>', 'set a DNS option (repeatable)', collect, [])
    .option('--add-host <host:ip>', 'add a line to /etc/hosts (repeatable)', collect, [])
    .option('-m, --memory <bytes>', 'memory limit (e.g. 512m, 1g)')
    .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited swap')
    .option('--cpus <number>', 'number of CPUs (e.g. 1.5)')
    .option('-c, --cpu-shares <number>', 'CPU shares (relative weight)')
    .option('--pids-limit <number>', 'tune the container pids limit (-1 for unlimited)')
    .option('--shm-size <bytes>', 'size of /dev/shm (default 64m)')
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('--cap-add <capability>', 'add a Linux capability (repeatable)', collect, [])
    .option('--cap-drop <capability>', 'drop a Linux capability (repeatable)', collect, [])
    .option('--privileged', 'give extended privileges to this container')
    .option('--security-opt <opt>', 'seccomp=FILE|unconfined, no-new-privileges (repeatable)', collect, [])
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--stop-timeout <seconds>', 'timeout to stop a container, in seconds')
    .option('-l, --label <key=value>', 'set metadata on a container (repeatable)', collect, [])
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('--runtime <path>', "another OCI runtime's binary (runc, crun) to run the container, under skiff's monitor")
    .addOption(new Option('--restart <policy>', 'restart policy: no, on-failure[:max-retries], always, unless-stopped').default('no'))
    .option('-q, --quiet', 'suppress the pull output')
    .option('--pod <pod>', 'join a pod (its name or ID), or new:NAME to create one: -p and --network then go to the pod');
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i;

/** go-units RAMInBytes: 512, 512k, 1.5g, 1GiB (binary multiples, as docker reads memory sizes). */
export function parseBytes(input: string, flag: string): number {
  const m = SIZE.exec(input.trim());
  if (!m) throw new SkiffError(`${flag}: invalid size "${input}" (a number with an optional unit b, k, m, g, t)`, 'EINVAL');
  const power = 'bkmgtp'.indexOf((m[2] || 'b').toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

function parseInteger(input: string, flag: string, min: number): number {
  if (!/^-?\d+$/.test(input) || Number(input) < min) throw new SkiffError(`${flag}: "${input}" is not an integer of at least ${min}`, 'EINVAL');
  return Number(input);
}

/** docker -p: [ip:][hostPort:]containerPort[/proto]; an empty or missing host port is chosen at start. */
export function parsePublish(spec: string): PortRequest {
  const m = /^(?:(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d{0,5}):)?(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(spec);
  const port = (s: string | undefined) => (s ? Number(s) : 0);
  if (!m || port(m[3]) < 1 || port(m[3]) > 65535 || port(m[2]) > 65535) {
    throw new SkiffError(`-p ${spec}: expected [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp|sctp], ports 1-65535`, 'EINVAL');
  }
  return { ...(m[1] ? { hostIP: m[1].replace(/^\[|\]$/g, '') } : {}), hostPort: port(m[2]), containerPort: port(m[3]), protocol: (m[4] ?? 'tcp') as PortRequest['protocol'] };
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

/** docker -v: /host:/ctr[:opts], name:/ctr[:opts], or /ctr (an anonymous volume). */
export function parseVolume(spec: string): MountRequest {
  const parts = spec.split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0], readOnly: false };
  const [source, target, opts = ''] = parts;
  if (parts.length > 3 || !source || !target) throw new SkiffError(`-v ${spec}: expected [HOST-DIR|NAME:]CONTAINER-DIR[:OPTIONS]`, 'EINVAL');
  let readOnly = false;
  let propagation: string | undefined;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o === 'ro' || o === 'rw') readOnly = o === 'ro';
    else if (PROPAGATIONS.includes(o)) propagation = o;
    else if (o === 'z' || o === 'Z') continue; // SELinux relabel: this host has no SELinux, as docker then ignores it
    else throw new SkiffError(`-v ${spec}: unknown option "${o}" (ro, rw, or a propagation: ${PROPAGATIONS.join(', ')})`, 'EINVAL');
  }
  if (isAbsolute(source) || source.startsWith('.')) {
    return { type: 'bind', source: resolve(source), target, readOnly, createSource: true, ...(propagation ? { propagation } : {}) };
  }
  if (propagation) throw new SkiffError(`-v ${spec}: propagation applies to bind mounts only`, 'EINVAL');
  return { type: 'volume', source, target, readOnly };
}

/** docker --mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,...] */
export function parseMount(spec: string): MountRequest {
  const kv = new Map<string, string>();
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    kv.set((eq < 0 ? field : field.slice(0, eq)).toLowerCase(), eq < 0 ? 'true' : field.slice(eq + 1));
  }
  const get = (...keys: string[]) => keys.map((k) => kv.get(k)).find((v) => v !== undefined);
  const type = get('type') ?? 'volume';
  const target = get('target', 'destination', 'dst');
  if (!target) throw new SkiffError(`--mount ${spec}: target is required`, 'EINVAL');
  const ro = get('readonly', 'ro');
  const readOnly = ro !== undefined && ro !== 'false' && ro !== '0';
  const known = new Set(['type', 'target', 'destination', 'dst', 'source', 'src', 'readonly', 'ro', 'bind-propagation', 'volume-nocopy', 'tmpfs-size', 'tmpfs-mode']);
  for (const k of kv.keys()) if (!known.has(k)) throw new SkiffError(`--mount ${spec}: unknown field "${k}"`, 'EINVAL');
  const source = get('source', 'src');
  switch (type) {
    case 'bind': {
      if (!source) throw new SkiffError(`--mount ${spec}: a bind mount needs source`, 'EINVAL');
      const propagation = get('bind-propagation');
      if (propagation && !PROPAGATIONS.includes(propagation)) throw new SkiffError(`--mount ${spec}: bind-propagation must be one of ${PROPAGATIONS.join(', ')}`, 'EINVAL');
      return { type, source: resolve(source), target, readOnly, ...(propagation ? { propagation } : {}) };
    }
    case 'volume':
      return { type, ...(source ? { source } : {}), target, readOnly, ...(get('volume-nocopy') === 'true' ? { noCopy: true } : {}) };
    case 'tmpfs': {
      if (source) throw new SkiffError(`--mount ${spec}: a tmpfs mount has no source`, 'EINVAL');
      const size = get('tmpfs-size');
      const mode = get('tmpfs-mode');
      if (mode !== undefined && !/^[0-7]{1,4}$/.test(mode)) throw new SkiffError(`--mount ${spec}: tmpfs-mode must be octal`, 'EINVAL');
      return { type, target, readOnly, ...(size ? { sizeBytes: parseBytes(size, '--mount tmpfs-size') } : {}), ...(mode ? { mode: parseInt(mode, 8) } : {}) };
    }
    default:
      throw new SkiffError(`--mount ${spec}: type must be bind, volume or tmpfs`, 'EINVAL');
  }
}

/** docker --tmpfs /dir[:size=64m,mode=1777,...] */
function parseTmpfs(spec: string): MountRequest {
  const colon = spec.indexOf(':');
  const target = colon < 0 ? spec : spec.slice(0, colon);
  const options = colon < 0 ? [] : spec.slice(colon + 1).split(',').filter(Boolean);
  let readOnly = false;
  const rest: string[] = [];
  for (const o of options) {
    if (o === 'ro' || o === 'rw') readOnly = o === 'ro';
    else if (/^(size|mode|uid|gid|nr_inodes|nr_blocks)=\S+$/.test(o) || ['exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev'].includes(o)) rest.push(o.startsWith('size=') ? `size=${parseBytes(o.slice(5), '--tmpfs size')}` : o);
    else throw new SkiffError(`--tmpfs ${spec}: unknown option "${o}"`, 'EINVAL');
  }
  return { type: 'tmpfs', target, readOnly, options: rest };
}

function parseRestart(input: string): ContainerConfig['restartPolicy'] {
  const [name, max, extra] = input.split(':');
  if (!['no', 'on-failure', 'always', 'unless-stopped'].includes(name) || extra !== undefined) {
    throw new SkiffError(`--restart ${input}: expected no, on-failure[:max-retries], always or unless-stopped`, 'EINVAL');
  }
  if (max !== undefined && name !== 'on-failure') throw new SkiffError(`--restart ${input}: only on-failure takes a retry count`, 'EINVAL');
  return { name: name as RestartPolicyName, maximumRetryCount: max === undefined ? 0 : parseInteger(max, '--restart', 0) };
}

/** docker's --env-file: KEY=VALUE lines, # comments, a bare KEY takes our environment's value. */
function envFileLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError(`--env-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'EINVAL');
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).flatMap((l) => {
    if (l.includes('=')) return [l];
    return process.env[l] !== undefined ? [`${l}=${process.env[l]}`] : [];
  });
}

function expandEnv(values: string[]): string[] {
  return values.map((v) => (v.includes('=') ? v : process.env[v] !== undefined ? `${v}=${process.env[v]}` : undefined)).filter((v): v is string => v !== undefined);
}

function parseSecurityOpts(opts: string[], cfg: ContainerConfig): void {
  for (const o of opts) {
    const [key, value] = [o.slice(0, o.search(/[=:]|$/)), o.slice(o.search(/[=:]|$/) + 1)];
    if (key === 'seccomp') {
      if (!value) throw new SkiffError('--security-opt seccomp: give a profile file or unconfined', 'EINVAL');
      if (value === 'unconfined') cfg.seccomp = 'unconfined';
      else {
        try {
          cfg.seccomp = { file: resolve(value), text: readFileSync(value, 'utf8') };
        } catch (err) {
          throw new SkiffError(`--security-opt seccomp=${value}: ${(err as Error).message}`, 'EINVAL');
        }
      }
    } else if (key === 'no-new-privileges') {
      if (!['', 'true', 'false'].includes(value)) throw new SkiffError(`--security-opt ${o}: expected no-new-privileges[=true|false]`, 'EINVAL');
      cfg.noNewPrivileges = value !== 'false';
    } else if (key === 'apparmor' || key === 'label') {
      throw new SkiffError(`--security-opt ${o}: this host has no ${key === 'apparmor' ? 'AppArmor' : 'SELinux'}`, 'ENOTSUP');
    } else {
      throw new SkiffError(`--security-opt ${o}: unknown option (seccomp=FILE|unconfined, no-new-privileges)`, 'EINVAL');
    }
  }
}

const capName = (c: string) => {
  const up = c.toUpperCase();
  return up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`;
};

/** The flags as the engine's ContainerConfig; `command` is what follows the image on the command line. */
export function containerConfig(f: ContainerFlags, command: string[]): ContainerConfig {
  const cfg = defaultContainerConfig();
  if (command.length) cfg.command = command;
  if (f.entrypoint !== undefined) cfg.entrypoint = f.entrypoint === '' ? [] : [f.entrypoint];
  cfg.env = [...f.envFile.flatMap(envFileLines), ...expandEnv(f.env)];
  for (const e of cfg.env) if (e.startsWith('=')) throw new SkiffError(`-e ${e}: the variable has no name`, 'EINVAL');
  cfg.workdir = f.workdir;
  if (f.workdir !== undefined && !isAbsolute(f.workdir)) throw new SkiffError(`-w ${f.workdir}: the working directory must be an absolute path`, 'EINVAL');
  cfg.user = f.user;
  cfg.tty = Boolean(f.tty);
  cfg.openStdin = Boolean(f.interactive);
  cfg.hostname = f.hostname;
  if (f.hostname !== undefined && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(f.hostname)) throw new SkiffError(`-h ${f.hostname}: invalid hostname`, 'EINVAL');
  for (const l of f.label) {
    const eq = l.indexOf('=');
    if (eq === 0) throw new SkiffError(`--label ${l}: the label has no key`, 'EINVAL');
    cfg.labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  cfg.stopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) cfg.stopTimeout = parseInteger(f.stopTimeout, '--stop-timeout', -1);
  cfg.init = Boolean(f.init);
  if (f.runtime !== undefined) cfg.runtime = f.runtime;
  cfg.autoRemove = Boolean(f.rm);
  cfg.restartPolicy = parseRestart(f.restart);
  cfg.networkMode = f.network;
  if (f.network.startsWith('container:')) throw new SkiffError('--network container:NAME is not supported (pods share a network: see skiff pod)', 'ENOTSUP');
  cfg.publish = f.publish.map(parsePublish);
  cfg.publishAll = Boolean(f.publishAll);
  cfg.dns = f.dns;
  cfg.dnsSearch = f.dnsSearch;
  cfg.dnsOptions = f.dnsOption;
  for (const h of f.addHost) if (!/^[^:=\s]+[:=]\S+$/.test(h)) throw new SkiffError(`--add-host ${h}: expected HOST:IP`, 'EINVAL');
  cfg.extraHosts = f.addHost;
  cfg.mounts = [...f.volume.map(parseVolume), ...f.mount.map(parseMount), ...f.tmpfs.map(parseTmpfs)];
  cfg.readOnlyRootfs = Boolean(f.readOnly);
  cfg.capAdd = f.capAdd.map(capName);
  cfg.capDrop = f.capDrop.map(capName);
  cfg.privileged = Boolean(f.privileged);
  parseSecurityOpts(f.securityOpt, cfg);
  if (f.memory !== undefined) cfg.resources.memory = parseBytes(f.memory, '--memory');
  if (f.memorySwap !== undefined) cfg.resources.memorySwap = f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap');
  if (f.cpus !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(f.cpus) || Number(f.cpus) <= 0) throw new SkiffError(`--cpus ${f.cpus}: expected a positive number`, 'EINVAL');
    cfg.resources.nanoCpus = Math.round(Number(f.cpus) * 1e9);
  }
  if (f.cpuShares !== undefined) cfg.resources.cpuShares = parseInteger(f.cpuShares, '--cpu-shares', 2);
  if (f.pidsLimit !== undefined) cfg.resources.pidsLimit = parseInteger(f.pidsLimit, '--pids-limit', -1);
  if (f.shmSize !== undefined) cfg.shmSize = parseBytes(f.shmSize, '--shm-size');
  return cfg;
}
