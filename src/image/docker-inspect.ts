// An image as `docker image inspect` shows it (the Engine API's ImageInspect), so scripts written against docker's
// fields read ours: Id is the config's digest, RepoTags and RepoDigests come from every name of the image, Config
// carries the image config's own fields under docker's names (image-spec config.md uses the same ones), RootFS.Layers
// are the uncompressed layer digests. Descriptor is the manifest the inspected name points at (docker 28 with the
// containerd store shows it too).
import type { ImageSummary } from './image-summary.js';
import { parseReference, repositoryOf } from './reference.js';

export interface DockerImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  [field: string]: unknown;
}

/** `image`'s inspect object; `names` are every name of the same image. Needs the config (the caller checks). */
export function dockerInspect(image: ImageSummary & { id: string }, names: ImageSummary[]): DockerImageInspect {
  const cfg = image.config ?? {};
  const c = cfg.config ?? {};
  const refs = names.map((n) => ({ ref: parseReference(n.record.name), digest: n.record.target.digest }));
  return {
    Id: image.id,
    RepoTags: refs.filter((r) => r.ref.tag && !r.ref.digest).map((r) => `${repositoryOf(r.ref)}:${r.ref.tag}`),
    RepoDigests: [...new Set(refs.map((r) => `${repositoryOf(r.ref)}@${r.ref.digest ?? r.digest}`))],
    Parent: '',
    Comment: cfg.comment ?? '',
    Created: cfg.created ?? '',
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: {
      User: c.User ?? '', ExposedPorts: c.ExposedPorts ?? null, Env: c.Env ?? null, Entrypoint: c.Entrypoint ?? null,
      Cmd: c.Cmd ?? null, Volumes: c.Volumes ?? null, WorkingDir: c.WorkingDir ?? '', Labels: c.Labels ?? null,
      StopSignal: c.StopSignal ?? '',
      // Whatever else the config holds (docker's Healthcheck, OnBuild, Shell, ArgsEscaped), as it is.
      ...Object.fromEntries(Object.entries(c).filter(([k]) => !CONFIG_FIELDS.has(k))),
    },
    Architecture: cfg.architecture ?? '',
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os ?? '',
    ...(cfg['os.version'] ? { OsVersion: cfg['os.version'] } : {}),
    Size: image.size ?? null,
    RootFS: { Type: cfg.rootfs?.type ?? 'layers', Layers: cfg.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: image.record.updated ?? image.record.created },
    Descriptor: image.record.target,
  };
}

const CONFIG_FIELDS: ReadonlySet<string> = new Set(['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal']);
