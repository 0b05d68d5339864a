// The device cgroup rules a container gets: the config's rules, then access to the devices every container has
// (the default /dev nodes, the pty master and slaves) and to the nodes listed in linux.devices, as runc allows them.
import type { LinuxDevice, LinuxDeviceCgroup } from '../oci/runtime-spec.js';

const ALWAYS_ALLOWED: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' }, // mknod of any char device
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' }, // mknod of any block device
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/pts/ptmx
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' }, // /dev/pts/*
];

/**
 * The device rules to enforce. Enforcement starts from deny-all (runc's device emulator starts from an empty allow
 * list), so a config without rules still gets the default nodes and those it lists in linux.devices.
 */
export function containerDeviceRules(rules: LinuxDeviceCgroup[] | undefined, devices: LinuxDevice[] | undefined): LinuxDeviceCgroup[] {
  const listed = (devices ?? []).filter((d) => d.type === 'c' || d.type === 'b' || d.type === 'u')
    .map((d): LinuxDeviceCgroup => ({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access: 'rwm' }));
  return [...(rules ?? []), ...ALWAYS_ALLOWED, ...listed];
}
