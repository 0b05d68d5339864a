// skiff image mount: an image's layers mounted for looking at (read-only) or trying things in (--writable, an
// upper directory of its own), one mount per image name, kept as a rootfs under <root>/containers beside the
// containers' (so garbage collection keeps its snapshots and rmi sees it in use). What the record says is checked
// against what is really mounted (mountinfo): a mount gone after an outside umount or a reboot is made again, and
// a mount of the other kind is refused rather than handed out as if it were the one asked for.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { withLock } from '../common/lock.js';
import { resolveImage } from './image-summary.js';
import { localImage } from './local-image.js';
import { formatReference, parseReference } from './reference.js';
import { containerDataDir, prepareRootfs, removeRootfs, rootfsStatus } from './rootfs.js';

/** The rootfs id of an image's mount: one per image name. */
export function imageMountId(name: string): string {
  return `image-mount-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

/** The image a rootfs under <root>/containers mounts, if it is an image mount. */
export function mountedImage(root: string, id: string): string | undefined {
  const image = rootfsStatus(root, id)?.image;
  return image !== undefined && imageMountId(image) === id ? image : undefined;
}

/** Mount and unmount of one image run one at a time, across processes. */
async function locked<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(root, 'containers'), { recursive: true });
  return withLock(`${containerDataDir(root, id)}.lock`, `image mount ${id}`, fn);
}

const kind = (readonly: boolean) => (readonly ? 'read-only' : 'writable');

/** Mounts the image `input` names (a name or an image ID) and returns the path. */
export async function mountImage(root: string, input: string, { writable = false } = {}): Promise<string> {
  const name = (await resolveImage(root, input)).image.record.name;
  const id = imageMountId(name);
  return locked(root, id, async () => {
    const status = rootfsStatus(root, id);
    if (status?.live) {
      if (status.readonly === !writable) return status.path;
      throw new SkiffError(`image "${input}" is mounted ${kind(status.readonly)} at ${status.path}; unmount it first (skiff image unmount ${input}) to mount it ${kind(!writable)}`, 'EBUSY');
    }
    // A record without its mount (an outside umount or a reboot took it; what an upper directory held went with
    // it), or a directory without its record (a mount killed half way): cleared before mounting afresh.
    await removeRootfs(root, id);
    const img = await localImage(root, name);
    return (await prepareRootfs(root, id, img.layers, { readonly: !writable, image: name })).path;
  });
}

/** Unmounts the image `input` names and removes its upper directory; a mount already gone is cleaned up. */
export async function unmountImage(root: string, input: string): Promise<void> {
  const id = await mountIdOf(root, input);
  await locked(root, id, () => removeRootfs(root, id));
}

/** The mount of the name `input`, or of the image it names by ID; an error if there is none. */
async function mountIdOf(root: string, input: string): Promise<string> {
  const byName = imageMountId(formatReference(parseReference(input)));
  if (rootfsStatus(root, byName)) return byName;
  const resolved = await resolveImage(root, input, { builtIn: false }).catch(() => undefined);
  const id = resolved && imageMountId(resolved.image.record.name);
  if (id && rootfsStatus(root, id)) return id;
  throw new SkiffError(`image "${input}" is not mounted`, 'ENOENT');
}
