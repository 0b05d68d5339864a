// What the CRI knows about a sandbox or a container beyond what pods and the engine keep: kept in their labels and
// annotations under a prefix of our own (containerd keeps the same in its metadata store), so a new skiffd finds
// everything in the stores. Callers never see these keys: `visible` takes them out of what the CRI reports.
import type { ContainerMetadata } from './proto/generated/runtime/v1/ContainerMetadata.js';
import type { NamespaceOption } from './proto/generated/runtime/v1/NamespaceOption.js';
import type { PodSandboxMetadata } from './proto/generated/runtime/v1/PodSandboxMetadata.js';

export const PREFIX = 'io.skiff.cri.';

export const KEYS = {
  /** On a pod: its PodSandboxMetadata as JSON. Its presence marks a pod the CRI made. */
  sandboxMetadata: `${PREFIX}sandbox-metadata`,
  /** On a pod: the directory its containers' log_path is relative to. */
  logDirectory: `${PREFIX}log-directory`,
  runtimeHandler: `${PREFIX}runtime-handler`,
  /** On a pod: "true" when its security context is privileged (only then may its containers be). */
  privileged: `${PREFIX}privileged`,
  /** On a pod: its NamespaceOption as JSON. */
  namespaceOptions: `${PREFIX}namespace-options`,
  /** On a container: its ContainerMetadata as JSON. Its presence marks a container the CRI made. */
  containerMetadata: `${PREFIX}container-metadata`,
  /** On a container: its sandbox's ID. */
  sandboxId: `${PREFIX}sandbox-id`,
  /** On a container: the image as CreateContainer named it (ImageSpec.image). */
  image: `${PREFIX}image`,
} as const;

/** Labels or annotations without our own keys. */
export function visible(map: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) if (!k.startsWith(PREFIX)) out[k] = v;
  return out;
}

function parsed<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export const sandboxMetadataOf = (annotations: Record<string, string>) => parsed<PodSandboxMetadata>(annotations[KEYS.sandboxMetadata]);
export const containerMetadataOf = (labels: Record<string, string>) => parsed<ContainerMetadata>(labels[KEYS.containerMetadata]);
export const namespaceOptionsOf = (annotations: Record<string, string>) => parsed<NamespaceOption>(annotations[KEYS.namespaceOptions]);

/** Whether every label of `selector` is in `labels` with the same value (CRI label_selector). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** An RFC 3339 time as the CRI's int64 nanoseconds since the epoch (a decimal string: it does not fit a double). */
export function nanos(iso: string | undefined): string {
  if (!iso) return '0';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '0';
  // Date keeps milliseconds; the fraction's digits beyond them (the monitor writes nanoseconds) are added back.
  const frac = /\.(\d+)/.exec(iso)?.[1] ?? '';
  const subMs = frac.length > 3 ? Number(frac.slice(3, 9).padEnd(6, '0')) : 0;
  return (BigInt(ms) * 1_000_000n + BigInt(subMs)).toString();
}
