// Platforms (image-spec image-index.md "platform"): the host's, `--platform os/arch[/variant]`, the choice of
// one manifest from an index, and the platform an image config says it is for (config.md: os, architecture,
// variant). Names are normalised as containerd's platforms package does (x86_64 -> amd64,
// aarch64 -> arm64, arm64's default variant v8, arm's v7), so "linux/arm64" matches an entry saying "v8".
import { SkiffError } from '../common/errors.js';
import type { Descriptor } from './content-store.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export type PlatformDescriptor = Descriptor & { platform?: Platform & { 'os.version'?: string; 'os.features'?: string[] } };

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386', armhf: 'arm', armel: 'arm' };
const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  const architecture = ARCH_ALIASES[p.architecture.toLowerCase()] ?? p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  if (architecture === 'arm64' && variant === '8') variant = 'v8';
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'arm' && !variant) variant = 'v7';
  if (architecture === 'arm' && variant && /^\d$/.test(variant)) variant = `v${variant}`;
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  return normalizePlatform({ os: 'linux', architecture });
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Parses `--platform os/arch[/variant]`. */
export function parsePlatform(s: string, flag = '--platform'): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[A-Za-z0-9_.-]+$/.test(x))) {
    throw new SkiffError(`${flag}: "${s}" is not os/arch[/variant] (e.g. linux/amd64, linux/arm/v7)`, 'EINVAL');
  }
  return normalizePlatform({ os: parts[0], architecture: parts[1], variant: parts[2] });
}

/** Whether `have` is the platform `want` asks for, both normalised. */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have?.os || !have.architecture) return false;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  return h.os === w.os && h.architecture === w.architecture && (h.variant ?? '') === (w.variant ?? '');
}

/** The platform an image config names, normalised; undefined if it lacks os or architecture. */
export function configPlatform(config: { os?: unknown; architecture?: unknown; variant?: unknown }): Platform | undefined {
  if (typeof config.os !== 'string' || !config.os || typeof config.architecture !== 'string' || !config.architecture) return undefined;
  return normalizePlatform({ os: config.os, architecture: config.architecture, variant: typeof config.variant === 'string' ? config.variant : undefined });
}

/**
 * The index entry for `want`, or an error listing what the index has. Entries without a platform, and
 * "unknown/unknown" ones (BuildKit's attestation manifests), are never chosen.
 */
export function choosePlatform(manifests: PlatformDescriptor[], want: Platform, what: string): PlatformDescriptor {
  const w = normalizePlatform(want);
  const found = manifests.find((m) => platformMatches(w, m.platform));
  if (found) return found;
  const have = manifests.filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => formatPlatform(normalizePlatform(m.platform!)));
  throw new SkiffError(`${what}: no image for ${formatPlatform(w)} (the index has ${have.join(', ') || 'no platforms'}); choose one with --platform`, 'ENOENT');
}
