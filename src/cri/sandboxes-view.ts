// The pods as the CRI sees them: only those RunPodSandbox made (they carry our metadata), looked up by ID or
// unique prefix, and as CRI PodSandbox and PodSandboxStatus messages.
import { SkiffError } from '../common/errors.js';
import type { CriContext } from './context.js';
import { KEYS, namespaceOptionsOf, nanos, sandboxMetadataOf, visible } from './cri-keys.js';
import { invalidArgument, notFound } from './grpc-error.js';
import type { PodSandbox } from './proto/generated/runtime/v1/PodSandbox.js';
import type { PodSandboxStatus } from './proto/generated/runtime/v1/PodSandboxStatus.js';
import type { PodView, Sandboxes } from './sandboxes.js';

export const isCriSandbox = (p: PodView) => p.annotations[KEYS.sandboxMetadata] !== undefined;

export async function sandboxOf(_ctx: CriContext, pods: Sandboxes, ref: string, field = 'pod_sandbox_id'): Promise<PodView> {
  if (!ref) throw invalidArgument(`${field}: no sandbox ID`);
  let pod: PodView;
  try {
    pod = await pods.inspect(await pods.resolve(ref));
  } catch (err) {
    if ((err as SkiffError).code === 'ENOENT') throw notFound(`sandbox "${ref}" not found`);
    throw err;
  }
  if (!isCriSandbox(pod)) throw notFound(`sandbox "${ref}" not found`);
  return pod;
}

export const sandboxState = (p: PodView) => (p.status === 'running' ? 'SANDBOX_READY' as const : 'SANDBOX_NOTREADY' as const);

export function criSandboxOf(p: PodView): PodSandbox {
  return {
    id: p.id,
    metadata: sandboxMetadataOf(p.annotations) ?? null,
    state: sandboxState(p),
    created_at: nanos(p.created),
    labels: visible(p.labels),
    annotations: visible(p.annotations),
    runtime_handler: p.annotations[KEYS.runtimeHandler] ?? '',
  };
}

export function criSandboxStatusOf(p: PodView): PodSandboxStatus {
  const ns = namespaceOptionsOf(p.annotations);
  const ready = p.status === 'running';
  return {
    ...criSandboxOf(p),
    // containerd reports no address for a sandbox that is not ready, and none with the node's network.
    network: { ip: ready && p.ip ? p.ip.split('/')[0] : '', additional_ips: ready ? p.additionalIps.map((ip) => ({ ip: ip.split('/')[0] })) : [] },
    linux: { namespaces: { options: { network: ns?.network ?? 'POD', pid: ns?.pid ?? 'CONTAINER', ipc: ns?.ipc ?? 'POD', target_id: '', userns_options: null } } },
  };
}
