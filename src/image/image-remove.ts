// rmi of one image name or ID, with docker's rules (daemon/images/image_delete.go): a name goes unless it is the
// image's last and a container or an image mount stands on the image; an ID removes its only name, and is refused
// when several names share it or something uses the image. --force removes regardless (the users keep their
// snapshots: garbage collection spares what a rootfs stands on). Blobs are left to the caller's collection.
import { SkiffError } from '../common/errors.js';
import { mountedImage } from './image-mount.js';
import { ImageStore } from './image-store.js';
import { resolveImage, shortId, type ImageSummary } from './image-summary.js';
import { parseReference, repositoryOf } from './reference.js';
import { rootfsPath } from './rootfs.js';
import { chainIds, snapshotUsers } from './snapshots.js';

export interface Removed {
  /** The names removed. */
  untagged: string[];
  /** The image ID, when its last name went. */
  deleted?: string;
}

const conflict = (why: string) => new SkiffError(`conflict: ${why}`, 'EBUSY');

/** Who stands on exactly this image's layers: "container ID" or "image mount PATH". */
async function usersOf(root: string, image: ImageSummary): Promise<string[]> {
  const diffIds = image.config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length === 0) return [];
  const top = chainIds(diffIds).pop();
  return (await snapshotUsers(root)).filter((u) => u.chainIds[u.chainIds.length - 1] === top)
    .map((u) => (mountedImage(root, u.id) ? `image mount ${rootfsPath(root, u.id)}` : `container ${shortId(u.id)}`));
}

export async function removeImage(root: string, input: string, { force = false } = {}): Promise<Removed> {
  const { image, names, byId } = await resolveImage(root, input, { builtIn: false });
  const id = shortId(image.id ?? image.record.target.digest);
  const users = force ? [] : await usersOf(root, image);
  if (byId && names.length > 1 && !force) {
    const repos = new Set(names.map((n) => repositoryOf(parseReference(n.record.name))));
    throw conflict(`unable to delete ${id} (must be forced) - image is referenced in ${repos.size > 1 ? 'multiple repositories' : `several tags of ${[...repos][0]}`}`);
  }
  if (byId && users.length) throw conflict(`unable to delete ${id} (must be forced) - image is being used by ${users[0]}`);
  // docker: removing one of several names leaves the image, so only its last name is guarded.
  if (!byId && names.length === 1 && users.length) throw conflict(`unable to remove repository reference "${input}" (must force) - ${users[0]} is using its referenced image ${id}`);
  const doomed = byId ? names : [image];
  const store = new ImageStore(root);
  for (const n of doomed) await store.delete(n.record.name);
  return { untagged: doomed.map((n) => n.record.name), deleted: doomed.length === names.length ? image.id : undefined };
}
