// A container in docker's `docker inspect` shape (moby api/types ContainerJSON), the fields skiff has filled from
// its record, the rest as docker shows them when unset, so scripts that read `.State.Pid` or
// `.NetworkSettings.Ports` work the same.
import { join } from 'node:path';
import type { ContainerView } from '../../engine/container-view.js';
import { containerHostname } from '../../engine/container-spec.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface InspectPaths {
  containerDir: string;
  logPath: string;
  volumeMountpoint: (name: string) => string;
}

/** The process the container last started with (its runtime spec's), absent before the first start. */
export type StartedProcess = { args?: string[]; env?: string[]; cwd?: string } | undefined;

export function dockerContainerInspect(v: ContainerView, started: StartedProcess, p: InspectPaths): Record<string, unknown> {
  const rec = v.record;
  const cfg = rec.config;
  const s = rec.state;
  const args = started?.args ?? [...(cfg.entrypoint ?? []), ...(cfg.command ?? [])];
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const q of rec.network?.ports ?? []) (ports[`${q.containerPort}/${q.protocol}`] ??= []).push({ HostIp: q.hostIP, HostPort: String(q.hostPort) });
  const attachments = rec.network?.attachments ?? [];
  const first = attachments[0];
  const [ip, prefix] = (first?.ips[0] ?? '').split('/');
  return {
    Id: rec.id,
    Created: rec.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: v.status,
      Running: v.status === 'running' || v.status === 'paused',
      Paused: v.status === 'paused',
      Restarting: v.status === 'restarting',
      OOMKilled: Boolean(s.oomKilled),
      Dead: false,
      Pid: s.status === 'running' ? s.pid ?? 0 : 0,
      ExitCode: s.exitCode ?? 0,
      Error: s.error ?? '',
      StartedAt: s.startedAt ?? ZERO_TIME,
      FinishedAt: s.finishedAt ?? ZERO_TIME,
    },
    Image: rec.image.id,
    ResolvConfPath: join(p.containerDir, 'resolv.conf'),
    HostnamePath: join(p.containerDir, 'hostname'),
    HostsPath: join(p.containerDir, 'hosts'),
    LogPath: p.logPath,
    Name: `/${rec.name}`,
    RestartCount: s.restartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: cfg.mounts.filter((m) => m.type === 'bind').map((m) => (m.type === 'bind' ? `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}` : '')),
      NetworkMode: cfg.networkMode,
      PortBindings: Object.fromEntries(cfg.publish.map((q) => [`${q.containerPort}/${q.protocol}`, [{ HostIp: q.hostIP ?? '', HostPort: q.hostPort ? String(q.hostPort) : '' }]])),
      RestartPolicy: { Name: cfg.restartPolicy.name, MaximumRetryCount: cfg.restartPolicy.maximumRetryCount },
      AutoRemove: cfg.autoRemove,
      CapAdd: cfg.capAdd.length ? cfg.capAdd : null,
      CapDrop: cfg.capDrop.length ? cfg.capDrop : null,
      Dns: cfg.dns,
      DnsOptions: cfg.dnsOptions,
      DnsSearch: cfg.dnsSearch,
      ExtraHosts: cfg.extraHosts.length ? cfg.extraHosts : null,
      Privileged: cfg.privileged,
      PublishAllPorts: cfg.publishAll,
      ReadonlyRootfs: cfg.readOnlyRootfs,
      SecurityOpt: [
        ...(cfg.seccomp === 'unconfined' ? ['seccomp=unconfined'] : cfg.seccomp ? [`seccomp=${cfg.seccomp.file}`] : []),
        ...(cfg.noNewPrivileges ? ['no-new-privileges'] : []),
      ],
      Tmpfs: Object.fromEntries(cfg.mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.target, m.type === 'tmpfs' ? (m.options ?? []).join(',') : ''])),
      ShmSize: cfg.shmSize ?? 64 * 1024 * 1024,
      Memory: cfg.resources.memory ?? 0,
      MemorySwap: cfg.resources.memorySwap ?? 0,
      NanoCpus: cfg.resources.nanoCpus ?? 0,
      CpuShares: cfg.resources.cpuShares ?? 0,
      PidsLimit: cfg.resources.pidsLimit ?? null,
      Init: cfg.init || null,
      Runtime: cfg.runtime ?? 'skiff',
    },
    GraphDriver: {
      Name: 'overlay',
      Data: { MergedDir: join(p.containerDir, 'rootfs'), UpperDir: join(p.containerDir, 'upper'), WorkDir: join(p.containerDir, 'work') },
    },
    Mounts: cfg.mounts.filter((m) => m.type !== 'tmpfs').map((m) => ({
      Type: m.type,
      ...(m.type === 'volume' ? { Name: m.source, Source: p.volumeMountpoint(m.source!), Driver: 'local' } : { Source: m.type === 'bind' ? m.source : '' }),
      Destination: m.target,
      Mode: m.readOnly ? 'ro' : '',
      RW: !m.readOnly,
      Propagation: m.type === 'bind' ? m.propagation ?? 'rprivate' : '',
    })),
    Config: {
      Hostname: containerHostname(cfg, rec.id),
      Domainname: '',
      User: cfg.user ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: cfg.tty,
      OpenStdin: cfg.openStdin,
      StdinOnce: false,
      Env: started?.env ?? cfg.env,
      Cmd: cfg.command ?? null,
      Image: rec.image.input,
      WorkingDir: started?.cwd ?? cfg.workdir ?? '',
      Entrypoint: cfg.entrypoint ?? null,
      Labels: cfg.labels,
      ...(cfg.stopSignal ? { StopSignal: cfg.stopSignal } : {}),
      ...(cfg.stopTimeout !== undefined ? { StopTimeout: cfg.stopTimeout } : {}),
    },
    NetworkSettings: {
      SandboxKey: rec.network?.netns ?? '',
      Ports: ports,
      IPAddress: ip ?? '',
      IPPrefixLen: prefix ? Number(prefix) : 0,
      Gateway: first?.gateway ?? '',
      MacAddress: first?.mac ?? '',
      Networks: Object.fromEntries(attachments.map((a) => {
        const [aip, aprefix] = (a.ips[0] ?? '').split('/');
        return [a.network, { IPAddress: aip ?? '', IPPrefixLen: aprefix ? Number(aprefix) : 0, Gateway: a.gateway ?? '', MacAddress: a.mac ?? '' }];
      })),
    },
  };
}
