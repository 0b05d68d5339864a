// CreateContainer: the CRI ContainerConfig translated (container-translate.ts) and made as a container of the
// sandbox's pod, with the CRI's metadata, sandbox ID and image name kept in its labels (cri-keys.ts).
import { readFileSync } from 'node:fs';
import { SkiffError } from '../common/errors.js';
import type { CriContext } from './context.js';
import { criContainer } from './containers.js';
import { KEYS, sandboxMetadataOf } from './cri-keys.js';
import { translateContainer } from './container-translate.js';
import { invalidArgument, notFound } from './grpc-error.js';
import { logClampOnce, ownProcess } from './host-facts.js';
import { findImage } from './image-lookup.js';
import type { CreateContainerRequest__Output } from './proto/generated/runtime/v1/CreateContainerRequest.js';
import type { CreateContainerResponse } from './proto/generated/runtime/v1/CreateContainerResponse.js';
import { requestError } from './request-error.js';
import { sandboxOf } from './sandboxes-view.js';

/** TARGET pid: the running target container's pid namespace, as containerd joins it (/proc/PID/ns/pid). */
async function targetPidNamespace(ctx: CriContext, req: CreateContainerRequest__Output): Promise<string | { error: string } | undefined> {
  const ns = req.config?.linux?.security_context?.namespace_options;
  if (String(ns?.pid) !== 'TARGET') return undefined;
  if (!ns!.target_id) return { error: 'no target_id for TARGET pid' };
  const target = await criContainer(ctx, ns!.target_id, 'config.linux.security_context.namespace_options.target_id').catch(() => undefined);
  if (!target) return { error: `container "${ns!.target_id}" not found` };
  if (target.status !== 'running' || !target.record.state.pid) return { error: `container "${ns!.target_id}" is not running` };
  return `/proc/${target.record.state.pid}/ns/pid`;
}

export async function containerCreate(ctx: CriContext, req: CreateContainerRequest__Output): Promise<CreateContainerResponse> {
  const pods = ctx.sandboxes;
  const pod = await sandboxOf(ctx, pods, req.pod_sandbox_id);
  if (pod.status !== 'running') throw invalidArgument(`pod_sandbox_id: sandbox ${pod.id} is not ready`);
  const meta = sandboxMetadataOf(pod.annotations) ?? req.sandbox_config?.metadata ?? { name: pod.name, namespace: '', uid: '', attempt: 0 };
  const own = ownProcess();
  const t = translateContainer(req.config, pod, req.sandbox_config, {
    ...own, readFile: (p) => readFileSync(p, 'utf8'), targetPidNamespace: await targetPidNamespace(ctx, req),
  }, { name: meta.name ?? '', namespace: meta.namespace ?? '', uid: meta.uid ?? '' });
  for (const n of t.notes) logClampOnce(ctx.log, n);
  const found = await findImage(ctx.config.root, t.image).catch(requestError('config.image.image'));
  if (!found) throw notFound(`config.image.image: image "${t.image}" not found`);
  t.config.labels = {
    ...t.config.labels,
    [KEYS.containerMetadata]: JSON.stringify(req.config!.metadata),
    [KEYS.sandboxId]: pod.id,
    [KEYS.image]: t.image,
  };
  const rec = await pods.createContainer(pod.id, { image: found.image.id, name: t.name, config: t.config }).catch((err: SkiffError) => {
    if (err.code === 'EEXIST') throw invalidArgument(`config.metadata: ${err.message}`);
    throw err;
  });
  ctx.events.publish(rec.id, 'CONTAINER_CREATED_EVENT');
  return { container_id: rec.id };
}
