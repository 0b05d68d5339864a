// The runtime-spec features document (features.md): what this runtime supports on this host, for engines that
// ask before they generate a config (containerd and CRI-O do).
import { SKIFF_VERSION } from '../common/version.js';
import { CAPABILITIES } from '../oci/capabilities.js';
import { OCI_VERSION } from '../oci/runtime-spec.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../seccomp/actions.js';
import type { HostFacts } from './host-facts.js';

const MOUNT_OPTIONS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'loud', 'mand', 'noatime',
  'nodev', 'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow',
  'private', 'rbind', 'relatime', 'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared',
  'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable',
];

export function featuresDocument(host: HostFacts) {
  const namespaces = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'];
  if (host.timeNamespace) namespaces.push('time');
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: MOUNT_OPTIONS,
    linux: {
      namespaces,
      capabilities: CAPABILITIES.slice(0, host.capLastCap + 1),
      cgroup: { v1: host.cgroupMode !== 'v2', v2: host.cgroupMode === 'v2', systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: SECCOMP_ACTIONS,
        operators: Object.keys(SECCOMP_OPERATORS),
        archs: Object.keys(SECCOMP_ARCHES),
        knownFlags: [...SECCOMP_FLAGS, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        supportedFlags: SECCOMP_FLAGS,
      },
      apparmor: { enabled: host.apparmor },
      selinux: { enabled: host.selinux },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.skiff.runtime.version': SKIFF_VERSION },
  };
}
