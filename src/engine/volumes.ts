// Volumes: directories under <root>/volumes/<name>/_data that outlive containers (docker's local driver). A named
// volume is made on first use; an anonymous one (an image's VOLUME, or -v /path) gets a random name and goes with
// `rm -v`. A new, empty volume is filled once with what the image has at its mount point (docker's copy-up).
import { chmodSync, copyFileSync, existsSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { SkiffError } from '../common/errors.js';
import { randomHex } from '../common/random.js';
import { resolvePathInRoot } from '../image/unpack/in-root.js';
import type { EnginePaths } from './paths.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface VolumeRecord {
  name: string;
  driver: 'local';
  created: string;
  labels: Record<string, string>;
  anonymous: boolean;
  /** True once the volume was filled from an image (or found non-empty): copy-up happens once. */
  initialized: boolean;
}

export interface Volume extends VolumeRecord {
  mountpoint: string;
}

export class Volumes {
  constructor(private readonly paths: EnginePaths) {}

  private dir(name: string): string {
    return join(this.paths.volumes, name);
  }

  mountpoint(name: string): string {
    return join(this.dir(name), '_data');
  }

  static checkName(name: string): void {
    if (!NAME.test(name)) throw new SkiffError(`invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, 'EINVAL');
  }

  async get(name: string): Promise<Volume | undefined> {
    Volumes.checkName(name);
    try {
      const rec = JSON.parse(readFileSync(join(this.dir(name), 'volume.json'), 'utf8')) as VolumeRecord;
      return { ...rec, mountpoint: this.mountpoint(name) };
    } catch {
      return undefined;
    }
  }

  async list(): Promise<Volume[]> {
    const names = await readdir(this.paths.volumes).catch(() => [] as string[]);
    const out: Volume[] = [];
    for (const n of names.filter((x) => NAME.test(x)).sort()) {
      const v = await this.get(n);
      if (v) out.push(v);
    }
    return out;
  }

  /** Creates the volume, or returns it if it exists (docker volume create is idempotent for a name). */
  async create(name: string | undefined, o: { labels?: Record<string, string> } = {}): Promise<{ volume: Volume; created: boolean }> {
    const volName = name ?? randomHex(32);
    const existing = await this.get(volName);
    if (existing) return { volume: existing, created: false };
    mkdirSync(this.mountpoint(volName), { recursive: true, mode: 0o755 });
    const rec: VolumeRecord = {
      name: volName, driver: 'local', created: new Date().toISOString(), labels: o.labels ?? {}, anonymous: name === undefined, initialized: false,
    };
    await writeFileAtomic(join(this.dir(volName), 'volume.json'), JSON.stringify(rec));
    return { volume: { ...rec, mountpoint: this.mountpoint(volName) }, created: true };
  }

  async remove(name: string): Promise<void> {
    if (!(await this.get(name))) throw new SkiffError(`no such volume: ${name}`, 'ENOENT');
    rmSync(this.dir(name), { recursive: true, force: true });
  }

  /**
   * Docker's copy-up: the first time an empty volume is mounted where the image has content, the content is copied
   * in (owners, modes and symlinks kept; the image path resolved inside the rootfs, never through a symlink out).
   */
  async fillFromImage(name: string, rootfs: string, target: string): Promise<void> {
    const vol = await this.get(name);
    if (!vol || vol.initialized) return;
    const source = resolvePathInRoot(rootfs, target.replace(/^\/+/, ''), `volume ${name}'s mount point ${target}`);
    if (readdirSync(vol.mountpoint).length === 0 && source && existsSync(source) && statSync(source).isDirectory()) {
      copyTree(source, vol.mountpoint);
    }
    const { mountpoint: _, ...rec } = vol;
    await writeFileAtomic(join(this.dir(name), 'volume.json'), JSON.stringify({ ...rec, initialized: true }));
  }

  /** Bytes used by a volume's data (du -s), for system df. */
  size(name: string): number {
    return directorySize(this.mountpoint(name));
  }
}

/** Copies a tree with owners, modes and times (fs.cp keeps no owners); symlinks are copied, never followed. */
function copyTree(from: string, to: string): void {
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    const st = lstatSync(src);
    if (e.isDirectory()) {
      mkdirSync(dst);
      copyTree(src, dst);
    } else if (e.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dst);
    } else if (e.isFile()) {
      copyFileSync(src, dst);
    } else {
      continue; // devices, fifos and sockets are not copied up (docker's copy skips them too)
    }
    lchownSync(dst, st.uid, st.gid);
    if (!e.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
    lutimesSync(dst, st.atime, st.mtime);
  }
  const top = statSync(from);
  lchownSync(to, top.uid, top.gid);
  chmodSync(to, top.mode & 0o7777);
}

export function directorySize(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += directorySize(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}
