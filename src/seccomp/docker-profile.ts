// A seccomp profile file as docker and podman take it (--security-opt seccomp=FILE) into linux.seccomp: the same
// fields as the runtime spec's, plus `archMap` (the native arch and its sub-architectures) and per-rule
// `includes`/`excludes` by capability and arch (moby profiles/seccomp). Rules that do not apply are dropped.
import { ValidationError } from '../common/errors.js';
import type { LinuxSeccomp } from '../oci/runtime-spec.js';
import { validateSeccomp } from './validate.js';

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface DockerRule {
  name?: string;
  names?: string[];
  includes?: Filter;
  excludes?: Filter;
  [key: string]: unknown;
}

interface DockerProfile {
  defaultAction: string;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: DockerRule[];
  [key: string]: unknown;
}

/** Node's process.arch -> the SCMP_ARCH_* name docker's archMap keys on. */
const NATIVE: Record<string, string> = {
  x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM', ia32: 'SCMP_ARCH_X86',
  ppc64: 'SCMP_ARCH_PPC64LE', s390x: 'SCMP_ARCH_S390X', riscv64: 'SCMP_ARCH_RISCV64',
};
/** Docker's includes.arches use Go's names. */
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

function kernelAtLeast(release: string, min: string): boolean {
  const [a, b] = release.split('.').map(Number);
  const [c, d] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

function applies(f: Filter | undefined, caps: Set<string>, arch: string, kernel: string, include: boolean): boolean {
  if (!f) return include;
  const checks: boolean[] = [];
  if (f.caps?.length) checks.push(f.caps.some((c) => caps.has(c)));
  if (f.arches?.length) checks.push(f.arches.includes(GO_ARCH[arch] ?? arch));
  if (f.minKernel) checks.push(kernelAtLeast(kernel, f.minKernel));
  if (!checks.length) return include;
  return include ? checks.every(Boolean) : checks.some(Boolean);
}

/** `text` is the file's content, `file` its name for errors, `caps` the container's bounding set. */
export function seccompFromProfileFile(text: string, file: string, caps: string[], kernel: string, arch: string = process.arch): LinuxSeccomp {
  let json: DockerProfile;
  try {
    json = JSON.parse(text) as DockerProfile;
  } catch (err) {
    throw new ValidationError(`seccomp profile ${file}`, [{ path: '(file)', message: `invalid JSON: ${(err as Error).message}` }]);
  }
  const capSet = new Set(caps);
  const { archMap, syscalls, ...rest } = json;
  const out: Record<string, unknown> = { ...rest };
  if (archMap && !json.architectures) {
    const native = archMap.find((m) => m.architecture === NATIVE[arch]);
    if (native) out.architectures = [native.architecture, ...(native.subArchitectures ?? [])];
  }
  if (syscalls) {
    out.syscalls = syscalls
      .filter((r) => applies(r.includes, capSet, arch, kernel, true) && !applies(r.excludes, capSet, arch, kernel, false))
      .map(({ includes: _i, excludes: _e, name, names, comment: _c, ...r }) => ({ ...r, names: names ?? (name ? [name] : []) }));
  }
  const problems = validateSeccomp(out, 'seccomp');
  if (problems.length) throw new ValidationError(`seccomp profile ${file}`, problems);
  return out as unknown as LinuxSeccomp;
}
