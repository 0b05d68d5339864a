// A host description for unit tests: a cgroup v1 hybrid machine like the CI one, with every capability.
import type { HostFacts } from '../../src/runtime/host-facts.js';

export function fakeHost(over: Partial<HostFacts> = {}): HostFacts {
  return {
    cgroupMode: 'hybrid', capLastCap: 40, capEff: (1n << 41n) - 1n, capBnd: (1n << 41n) - 1n, lsms: [], apparmor: false, selinux: false,
    timeNamespace: true, openat2: true, idmappedMounts: true, hardRlimits: { RLIMIT_NOFILE: 1048576 },
    kernel: '6.1.0', kernelVersion: { major: 6, minor: 1 }, cgroupV1Hierarchies: ['cpu', 'memory', 'pids'], ...over,
  };
}
