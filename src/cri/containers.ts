// The engine's containers as the CRI sees them: only those CreateContainer made (they carry our metadata), looked
// up by full ID or unique prefix, and their records as CRI Container and ContainerStatus messages.
import { SkiffError } from '../common/errors.js';
import type { ContainerView } from '../engine/container-view.js';
import type { CriContext } from './context.js';
import { containerMetadataOf, KEYS, nanos, visible } from './cri-keys.js';
import { invalidArgument, notFound } from './grpc-error.js';
import type { Container } from './proto/generated/runtime/v1/Container.js';
import type { ContainerState } from './proto/generated/runtime/v1/ContainerState.js';
import type { ContainerStatus } from './proto/generated/runtime/v1/ContainerStatus.js';
import type { Mount } from './proto/generated/runtime/v1/Mount.js';

export const isCriContainer = (v: ContainerView) => v.record.config.labels[KEYS.containerMetadata] !== undefined;

/** The CRI container an ID or unique ID prefix names: NOT_FOUND for none (or one the CRI did not make). */
export async function criContainer(ctx: CriContext, ref: string, field = 'container_id'): Promise<ContainerView> {
  if (!ref) throw invalidArgument(`${field}: no container ID`);
  if (!/^[a-f0-9]+$/.test(ref)) throw notFound(`container "${ref}" not found`);
  let view: ContainerView;
  try {
    view = await ctx.engine.inspect(await ctx.engine.resolve(ref));
  } catch (err) {
    if ((err as SkiffError).code === 'ENOENT') throw notFound(`container "${ref}" not found`);
    throw err;
  }
  if (!isCriContainer(view)) throw notFound(`container "${ref}" not found`);
  return view;
}

export function criState(v: ContainerView): ContainerState {
  switch (v.status) {
    case 'created': return 'CONTAINER_CREATED';
    case 'running': case 'paused': return 'CONTAINER_RUNNING';
    case 'exited': return 'CONTAINER_EXITED';
    default: return 'CONTAINER_UNKNOWN';
  }
}

export function criContainerOf(v: ContainerView): Container {
  const rec = v.record;
  return {
    id: rec.id,
    pod_sandbox_id: rec.config.labels[KEYS.sandboxId] ?? rec.config.pod ?? '',
    metadata: containerMetadataOf(rec.config.labels) ?? null,
    image: { image: rec.image.id, annotations: {} },
    image_ref: rec.image.id,
    state: criState(v),
    created_at: nanos(rec.created),
    labels: visible(rec.config.labels),
    annotations: visible(rec.config.annotations),
  };
}

const PROPAGATION: Record<string, Mount['propagation']> = {
  rprivate: 'PROPAGATION_PRIVATE', rslave: 'PROPAGATION_HOST_TO_CONTAINER', rshared: 'PROPAGATION_BIDIRECTIONAL',
};

/** Why a container ended, as the kubelet shows it: containerd's reasons. */
function reasonOf(v: ContainerView): string {
  const s = v.record.state;
  if (v.status !== 'exited') return '';
  if (s.oomKilled) return 'OOMKilled';
  if (s.exitCode === 0) return 'Completed';
  return 'Error';
}

export function criStatusOf(v: ContainerView): ContainerStatus {
  const rec = v.record;
  const s = rec.state;
  const exited = v.status === 'exited';
  const mounts: Mount[] = rec.config.mounts.flatMap((m) => (m.type === 'bind'
    ? [{ container_path: m.target, host_path: m.source, readonly: m.readOnly, selinux_relabel: false, propagation: PROPAGATION[m.propagation ?? 'rprivate'] ?? 'PROPAGATION_PRIVATE' }]
    : []));
  return {
    id: rec.id,
    metadata: containerMetadataOf(rec.config.labels) ?? null,
    state: criState(v),
    created_at: nanos(rec.created),
    // A start that never happened has no time: 0, as containerd.
    started_at: v.status === 'created' ? '0' : nanos(s.startedAt),
    finished_at: exited ? nanos(s.finishedAt) : '0',
    exit_code: exited ? s.exitCode ?? 255 : 0,
    image: { image: rec.config.labels[KEYS.image] ?? rec.image.input, annotations: {} },
    image_ref: rec.image.id,
    reason: reasonOf(v),
    message: exited && s.error ? s.error : '',
    labels: visible(rec.config.labels),
    annotations: visible(rec.config.annotations),
    mounts,
    log_path: rec.config.logPath ?? '',
    resources: null,
  };
}
