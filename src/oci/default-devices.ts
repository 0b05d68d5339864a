// What every container's /dev holds when the runtime mounts it (config-linux.md "Default Devices"), and the
// symlinks runc adds beside them.

export interface DefaultDevice {
  path: string;
  type: 'c';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

const charDevice = (path: string, major: number, minor: number): DefaultDevice =>
  ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 });

export const DEFAULT_DEVICES: readonly DefaultDevice[] = [
  charDevice('/dev/null', 1, 3),
  charDevice('/dev/zero', 1, 5),
  charDevice('/dev/full', 1, 7),
  charDevice('/dev/random', 1, 8),
  charDevice('/dev/urandom', 1, 9),
  charDevice('/dev/tty', 5, 0),
];

/** [target, link]. /dev/ptmx points into the container's own devpts instance (devpts "newinstance", pts(4)). */
export const DEFAULT_DEV_SYMLINKS: readonly (readonly [string, string])[] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];
