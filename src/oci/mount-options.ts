// config.json mount options -> mount(2) flags, as runc reads them (runtime-spec config.md "Mounts"; mount(8)).
import { MS } from '../common/linux-flags.js';

/** Options that set (true) or clear (false) a flag. */
const FLAG_OPTIONS: Record<string, [boolean, number]> = {
  ro: [true, MS.RDONLY], rw: [false, MS.RDONLY],
  nosuid: [true, MS.NOSUID], suid: [false, MS.NOSUID],
  nodev: [true, MS.NODEV], dev: [false, MS.NODEV],
  noexec: [true, MS.NOEXEC], exec: [false, MS.NOEXEC],
  sync: [true, MS.SYNCHRONOUS], async: [false, MS.SYNCHRONOUS],
  dirsync: [true, MS.DIRSYNC],
  remount: [true, MS.REMOUNT],
  mand: [true, MS.MANDLOCK], nomand: [false, MS.MANDLOCK],
  atime: [false, MS.NOATIME], noatime: [true, MS.NOATIME],
  diratime: [false, MS.NODIRATIME], nodiratime: [true, MS.NODIRATIME],
  bind: [true, MS.BIND], rbind: [true, MS.BIND | MS.REC],
  relatime: [true, MS.RELATIME], norelatime: [false, MS.RELATIME],
  strictatime: [true, MS.STRICTATIME], nostrictatime: [false, MS.STRICTATIME],
  lazytime: [true, MS.LAZYTIME], nolazytime: [false, MS.LAZYTIME],
  silent: [true, MS.SILENT], loud: [false, MS.SILENT],
  nosymfollow: [true, MS.NOSYMFOLLOW], symfollow: [false, MS.NOSYMFOLLOW],
  acl: [true, MS.POSIXACL], noacl: [false, MS.POSIXACL],
  iversion: [true, MS.I_VERSION], noiversion: [false, MS.I_VERSION],
  defaults: [false, 0],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** Options this runtime knows but the host or this build cannot honour; naming them is better than ignoring them. */
const UNSUPPORTED: Record<string, string> = {
  tmpcopyup: 'option "tmpcopyup" (copy the image\'s content into the new tmpfs) is not supported by skiff-runtime',
  idmap: 'option "idmap" (an idmapped mount, mount_setattr(2) MOUNT_ATTR_IDMAP) is not supported by skiff-init',
  ridmap: 'option "ridmap" (a recursive idmapped mount, mount_setattr(2) MOUNT_ATTR_IDMAP) is not supported by skiff-init',
};

/** runtime-spec's recursive mount attributes (applied with mount_setattr(2) AT_RECURSIVE). */
const RECURSIVE_ATTRIBUTES = new Set([
  'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime', 'rdiratime',
  'rrelatime', 'rnorelatime', 'rnoatime', 'ratime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow', 'rsymfollow',
]);

export interface ParsedMountOptions {
  flags: number;
  propagation: number[];
  data: string[];
  unsupported: { option: string; why: string }[];
}

export function parseMountOptions(options: string[] | undefined): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, propagation: [], data: [], unsupported: [] };
  for (const o of options ?? []) {
    const f = FLAG_OPTIONS[o];
    if (f) {
      out.flags = f[0] ? out.flags | f[1] : out.flags & ~f[1];
    } else if (o in PROPAGATION_OPTIONS) {
      out.propagation.push(PROPAGATION_OPTIONS[o]);
    } else if (o in UNSUPPORTED) {
      out.unsupported.push({ option: o, why: UNSUPPORTED[o] });
    } else if (RECURSIVE_ATTRIBUTES.has(o)) {
      out.unsupported.push({ option: o, why: `recursive mount attribute "${o}" (mount_setattr(2) AT_RECURSIVE) is not supported by skiff-init` });
    } else {
      out.data.push(o);
    }
  }
  return out;
}

export function propagationFlag(name: string): number | undefined {
  return PROPAGATION_OPTIONS[name];
}
