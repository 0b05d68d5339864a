// A Kubernetes v1 Pod, or an apps/v1 Deployment's pod template with one replica, read from YAML and checked whole
// against what skiff does: every field it does not do is a problem named by its path in the file
// (spec.containers[1].livenessProbe), never silently dropped. The result is a plain model for kube-play.ts.
import { parseAllDocuments } from 'yaml';
import { ValidationError, type Problem } from '../common/errors.js';

export interface KubeMount {
  volume: string;
  mountPath: string;
  readOnly: boolean;
}

export interface KubeContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env: string[];
  workingDir?: string;
  ports: { containerPort: number; hostPort?: number; hostIP?: string; protocol: 'tcp' | 'udp' | 'sctp' }[];
  memory?: number;
  nanoCpus?: number;
  cpuShares?: number;
  user?: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  readOnlyRootfs: boolean;
  noNewPrivileges: boolean;
  mounts: KubeMount[];
}

export type KubeVolume = { name: string; hostPath: { path: string; type: string } } | { name: string; emptyDir: true };

export interface KubePod {
  /** The pod's name: metadata.name (a Deployment's: NAME-pod, as podman names it). */
  name: string;
  namespace: string;
  uid?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostname?: string;
  hostNetwork: boolean;
  shareProcessNamespace: boolean;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  dns?: { servers: string[]; searches: string[]; options: string[] };
  hostAliases: string[];
  volumes: KubeVolume[];
  initContainers: KubeContainer[];
  containers: KubeContainer[];
}

type Obj = Record<string, unknown>;

class Checker {
  readonly problems: Problem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** `v` as an object whose keys are all in `allowed`; each other key is a problem. */
  obj(v: unknown, path: string, allowed: string[]): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.add(path, 'expected a mapping');
      return undefined;
    }
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.add(path ? `${path}.${k}` : k, 'skiff does not support this field');
    return v as Obj;
  }

  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.add(path, 'expected a list');
      return [];
    }
    return v;
  }

  str(v: unknown, path: string, required = false): string | undefined {
    if (v === undefined || v === null) {
      if (required) this.add(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(path, 'expected a string');
      return undefined;
    }
    return v;
  }

  strings(v: unknown, path: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    return this.list(v, path).map((s, i) => (typeof s === 'string' || typeof s === 'number' ? String(s) : (this.add(`${path}[${i}]`, 'expected a string'), '')));
  }

  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.add(path, 'expected true or false');
    return v === true;
  }

  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(path, `expected an integer from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  map(v: unknown, path: string): Record<string, string> {
    const o = this.obj(v, path, Object.keys((v as Obj) ?? {}));
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o ?? {})) {
      if (typeof val !== 'string') this.add(`${path}.${k}`, 'expected a string');
      else out[k] = val;
    }
    return out;
  }
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes quantity of bytes: 128Mi, 1G, 1e9, 500000. */
export function memoryQuantity(v: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(v));
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (BINARY[m[2] ?? ''] ?? DECIMAL[m[2] ?? '']));
}

/** A Kubernetes quantity of CPUs as billionths: 500m, 1.5, 2. */
export function cpuQuantity(v: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(String(v));
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2] ? 1e6 : 1e9));
}

const CONTAINER_FIELDS = ['name', 'image', 'command', 'args', 'env', 'workingDir', 'ports', 'resources', 'securityContext', 'volumeMounts'];

function container(c: Checker, v: unknown, path: string, volumeNames: Set<string>): KubeContainer | undefined {
  const o = c.obj(v, path, CONTAINER_FIELDS);
  if (!o) {
    if (v === undefined || v === null) c.add(path, 'expected a container');
    return undefined;
  }
  const name = c.str(o.name, `${path}.name`, true) ?? '';
  if (name && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) c.add(`${path}.name`, `"${name}" is not a DNS label (lower case letters, digits, -)`);
  const out: KubeContainer = {
    name, image: c.str(o.image, `${path}.image`, true) ?? '', env: [], ports: [], privileged: false, capAdd: [], capDrop: [],
    readOnlyRootfs: false, noNewPrivileges: false, mounts: [],
  };
  out.command = c.strings(o.command, `${path}.command`);
  out.args = c.strings(o.args, `${path}.args`);
  out.workingDir = c.str(o.workingDir, `${path}.workingDir`);
  c.list(o.env, `${path}.env`).forEach((e, i) => {
    const p = `${path}.env[${i}]`;
    const eo = c.obj(e, p, ['name', 'value']);
    const n = c.str(eo?.name, `${p}.name`, true);
    const val = eo?.value === undefined || eo?.value === null ? '' : typeof eo.value === 'string' || typeof eo.value === 'number' ? String(eo.value) : (c.add(`${p}.value`, 'expected a string'), '');
    if (n) out.env.push(`${n}=${val}`);
  });
  c.list(o.ports, `${path}.ports`).forEach((pv, i) => {
    const p = `${path}.ports[${i}]`;
    const po = c.obj(pv, p, ['name', 'containerPort', 'hostPort', 'hostIP', 'protocol']);
    if (!po) return;
    c.str(po.name, `${p}.name`);
    const containerPort = c.int(po.containerPort, `${p}.containerPort`, 1, 65535);
    if (po.containerPort === undefined) c.add(`${p}.containerPort`, 'is required');
    const hostPort = c.int(po.hostPort, `${p}.hostPort`, 1, 65535);
    const protocol = (c.str(po.protocol, `${p}.protocol`) ?? 'TCP').toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(protocol)) c.add(`${p}.protocol`, 'expected TCP, UDP or SCTP');
    const hostIP = c.str(po.hostIP, `${p}.hostIP`);
    if (containerPort) out.ports.push({ containerPort, protocol: protocol as 'tcp', ...(hostPort ? { hostPort } : {}), ...(hostIP ? { hostIP } : {}) });
  });
  const res = c.obj(o.resources, `${path}.resources`, ['limits', 'requests']);
  const limits = c.obj(res?.limits, `${path}.resources.limits`, ['memory', 'cpu']);
  if (limits?.memory !== undefined) {
    out.memory = memoryQuantity(limits.memory);
    if (out.memory === undefined) c.add(`${path}.resources.limits.memory`, `"${String(limits.memory)}" is not a quantity of bytes (e.g. 128Mi)`);
  }
  if (limits?.cpu !== undefined) {
    out.nanoCpus = cpuQuantity(limits.cpu);
    if (out.nanoCpus === undefined) c.add(`${path}.resources.limits.cpu`, `"${String(limits.cpu)}" is not a quantity of CPUs (e.g. 500m)`);
  }
  // The kubelet's mapping of a CPU request onto cgroup shares (MilliCPUToShares: 1024 per CPU, at least 2).
  const requests = c.obj(res?.requests, `${path}.resources.requests`, ['cpu']);
  if (requests?.cpu !== undefined) {
    const n = cpuQuantity(requests.cpu);
    if (n === undefined) c.add(`${path}.resources.requests.cpu`, `"${String(requests.cpu)}" is not a quantity of CPUs`);
    else out.cpuShares = Math.max(2, Math.floor((n / 1e6) * 1024 / 1000));
  }
  const sc = c.obj(o.securityContext, `${path}.securityContext`, ['runAsUser', 'runAsGroup', 'privileged', 'capabilities', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation']);
  if (sc) {
    const uid = c.int(sc.runAsUser, `${path}.securityContext.runAsUser`, 0, 2 ** 31 - 1);
    const gid = c.int(sc.runAsGroup, `${path}.securityContext.runAsGroup`, 0, 2 ** 31 - 1);
    if (gid !== undefined && uid === undefined) c.add(`${path}.securityContext.runAsGroup`, 'skiff needs runAsUser with it');
    if (uid !== undefined) out.user = gid !== undefined ? `${uid}:${gid}` : String(uid);
    out.privileged = c.bool(sc.privileged, `${path}.securityContext.privileged`) ?? false;
    out.readOnlyRootfs = c.bool(sc.readOnlyRootFilesystem, `${path}.securityContext.readOnlyRootFilesystem`) ?? false;
    out.noNewPrivileges = c.bool(sc.allowPrivilegeEscalation, `${path}.securityContext.allowPrivilegeEscalation`) === false;
    const caps = c.obj(sc.capabilities, `${path}.securityContext.capabilities`, ['add', 'drop']);
    const capName = (s: string) => (s.toUpperCase() === 'ALL' ? 'ALL' : `CAP_${s.toUpperCase().replace(/^CAP_/, '')}`);
    out.capAdd = (c.strings(caps?.add, `${path}.securityContext.capabilities.add`) ?? []).map(capName);
    out.capDrop = (c.strings(caps?.drop, `${path}.securityContext.capabilities.drop`) ?? []).map(capName);
  }
  c.list(o.volumeMounts, `${path}.volumeMounts`).forEach((mv, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    const mo = c.obj(mv, p, ['name', 'mountPath', 'readOnly']);
    const volume = c.str(mo?.name, `${p}.name`, true);
    const mountPath = c.str(mo?.mountPath, `${p}.mountPath`, true);
    if (volume && !volumeNames.has(volume)) c.add(`${p}.name`, `no volume "${volume}" in spec.volumes`);
    if (mountPath && !mountPath.startsWith('/')) c.add(`${p}.mountPath`, 'must be an absolute path');
    if (volume && mountPath) out.mounts.push({ volume, mountPath, readOnly: c.bool(mo?.readOnly, `${p}.readOnly`) ?? false });
  });
  return out;
}

function podSpec(c: Checker, v: unknown, path: string, pod: KubePod): void {
  const s = c.obj(v, path, ['containers', 'initContainers', 'volumes', 'restartPolicy', 'hostNetwork', 'shareProcessNamespace', 'dnsConfig', 'hostAliases', 'hostname']);
  if (!s) {
    c.add(path, 'is required');
    return;
  }
  pod.hostNetwork = c.bool(s.hostNetwork, `${path}.hostNetwork`) ?? false;
  pod.shareProcessNamespace = c.bool(s.shareProcessNamespace, `${path}.shareProcessNamespace`) ?? false;
  pod.hostname = c.str(s.hostname, `${path}.hostname`);
  const rp = c.str(s.restartPolicy, `${path}.restartPolicy`) ?? 'Always';
  if (!['Always', 'OnFailure', 'Never'].includes(rp)) c.add(`${path}.restartPolicy`, 'expected Always, OnFailure or Never');
  pod.restartPolicy = rp as KubePod['restartPolicy'];
  const dns = c.obj(s.dnsConfig, `${path}.dnsConfig`, ['nameservers', 'searches', 'options']);
  if (dns) {
    const options = c.list(dns.options, `${path}.dnsConfig.options`).map((ov, i) => {
      const o = c.obj(ov, `${path}.dnsConfig.options[${i}]`, ['name', 'value']);
      const n = c.str(o?.name, `${path}.dnsConfig.options[${i}].name`, true) ?? '';
      const val = o?.value === undefined ? undefined : String(o.value);
      return val === undefined ? n : `${n}:${val}`;
    });
    pod.dns = { servers: c.strings(dns.nameservers, `${path}.dnsConfig.nameservers`) ?? [], searches: c.strings(dns.searches, `${path}.dnsConfig.searches`) ?? [], options };
  }
  c.list(s.hostAliases, `${path}.hostAliases`).forEach((hv, i) => {
    const h = c.obj(hv, `${path}.hostAliases[${i}]`, ['ip', 'hostnames']);
    const ip = c.str(h?.ip, `${path}.hostAliases[${i}].ip`, true);
    for (const n of c.strings(h?.hostnames, `${path}.hostAliases[${i}].hostnames`) ?? []) if (ip) pod.hostAliases.push(`${n}:${ip}`);
  });
  c.list(s.volumes, `${path}.volumes`).forEach((vv, i) => {
    const p = `${path}.volumes[${i}]`;
    const vo = c.obj(vv, p, ['name', 'hostPath', 'emptyDir']);
    const name = c.str(vo?.name, `${p}.name`, true);
    if (!vo || !name) return;
    if (pod.volumes.some((x) => x.name === name)) c.add(`${p}.name`, `volume "${name}" is listed twice`);
    if (vo.hostPath !== undefined) {
      const hp = c.obj(vo.hostPath, `${p}.hostPath`, ['path', 'type']);
      const hpath = c.str(hp?.path, `${p}.hostPath.path`, true);
      const type = c.str(hp?.type, `${p}.hostPath.type`) ?? '';
      if (!['', 'Directory', 'DirectoryOrCreate', 'File'].includes(type)) c.add(`${p}.hostPath.type`, `"${type}": skiff does Directory, DirectoryOrCreate and File`);
      if (hpath && !hpath.startsWith('/')) c.add(`${p}.hostPath.path`, 'must be an absolute path');
      if (hpath) pod.volumes.push({ name, hostPath: { path: hpath, type } });
    } else if (vo.emptyDir !== undefined) {
      c.obj(vo.emptyDir, `${p}.emptyDir`, []);
      pod.volumes.push({ name, emptyDir: true });
    } else {
      c.add(p, 'skiff does hostPath and emptyDir volumes');
    }
  });
  const names = new Set(pod.volumes.map((x) => x.name));
  const seen = new Set<string>();
  for (const [key, into] of [['initContainers', pod.initContainers], ['containers', pod.containers]] as const) {
    c.list(s[key], `${path}.${key}`).forEach((cv, i) => {
      const made = container(c, cv, `${path}.${key}[${i}]`, names);
      if (!made) return;
      if (made.name && seen.has(made.name)) c.add(`${path}.${key}[${i}].name`, `container name "${made.name}" is used twice`);
      seen.add(made.name);
      into.push(made);
    });
  }
  if (!pod.containers.length) c.add(`${path}.containers`, 'a pod needs at least one container');
}

function metadata(c: Checker, v: unknown, path: string, pod: KubePod, named: boolean): void {
  const m = c.obj(v, path, ['name', 'namespace', 'labels', 'annotations', 'uid']);
  if (named) {
    const name = c.str(m?.name, `${path}.name`, true);
    if (name && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) c.add(`${path}.name`, `"${name}" is not a DNS name (lower case letters, digits, - and .)`);
    pod.name = name ?? '';
    pod.namespace = c.str(m?.namespace, `${path}.namespace`) ?? 'default';
    pod.uid = c.str(m?.uid, `${path}.uid`);
  } else if (m?.name !== undefined) {
    c.str(m.name, `${path}.name`);
  }
  pod.labels = { ...pod.labels, ...c.map(m?.labels, `${path}.labels`) };
  pod.annotations = { ...pod.annotations, ...c.map(m?.annotations, `${path}.annotations`) };
}

function document(c: Checker, doc: unknown): KubePod | undefined {
  const o = c.obj(doc, '', ['apiVersion', 'kind', 'metadata', 'spec']);
  if (!o) {
    c.add('(document)', 'expected a Kubernetes object');
    return undefined;
  }
  const pod: KubePod = {
    name: '', namespace: 'default', labels: {}, annotations: {}, hostNetwork: false, shareProcessNamespace: false,
    restartPolicy: 'Always', hostAliases: [], volumes: [], initContainers: [], containers: [],
  };
  const kind = `${String(o.apiVersion)}/${String(o.kind)}`;
  if (kind === 'v1/Pod') {
    metadata(c, o.metadata, 'metadata', pod, true);
    podSpec(c, o.spec, 'spec', pod);
  } else if (kind === 'apps/v1/Deployment') {
    metadata(c, o.metadata, 'metadata', pod, true);
    pod.name = pod.name && `${pod.name}-pod`;
    const s = c.obj(o.spec, 'spec', ['replicas', 'selector', 'template']);
    const replicas = c.int(s?.replicas, 'spec.replicas', 0, 1_000_000) ?? 1;
    if (replicas !== 1) c.add('spec.replicas', 'skiff runs one replica (no scheduler without a cluster)');
    const sel = c.obj(s?.selector, 'spec.selector', ['matchLabels']);
    const t = c.obj(s?.template, 'spec.template', ['metadata', 'spec']);
    metadata(c, t?.metadata, 'spec.template.metadata', pod, false);
    for (const [k, val] of Object.entries(c.map(sel?.matchLabels, 'spec.selector.matchLabels'))) {
      if (pod.labels[k] !== val) c.add(`spec.selector.matchLabels.${k}`, 'does not match the template\'s labels');
    }
    podSpec(c, t?.spec, 'spec.template.spec', pod);
  } else {
    c.add('kind', `${String(o.apiVersion)} ${String(o.kind)}: skiff plays v1 Pod and apps/v1 Deployment`);
    return undefined;
  }
  return pod;
}

/** Every Pod and Deployment in the file, or one error listing every problem found. */
export function parseKubeFile(text: string, source: string): KubePod[] {
  const c = new Checker();
  const out: KubePod[] = [];
  const docs = parseAllDocuments(text);
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length) {
      c.add('(yaml)', d.errors.map((e) => e.message).join('; '));
      continue;
    }
    const value: unknown = d.toJS();
    if (value === null || value === undefined) continue;
    const pod = document(c, value);
    if (pod) out.push(pod);
  }
  if (!out.length && !c.problems.length) c.add('(document)', 'the file holds no Kubernetes object');
  if (c.problems.length) throw new ValidationError(source, c.problems);
  return out;
}
