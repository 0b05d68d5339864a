// RemoveImage: removes the image a reference or ID names, with every name it has (the CRI removes images, not
// tags: containerd deletes all of an image's references), then collects the blobs and layers nothing uses any
// more. An image that is not there is already removed: success. Containers keep running on their own snapshots
// (garbage collection spares what a rootfs stands on), as with `skiff rmi --force`.
import { gc } from '../image/gc.js';
import { removeImage } from '../image/image-remove.js';
import type { CriContext } from './context.js';
import { invalidArgument } from './grpc-error.js';
import { findImage } from './image-lookup.js';
import type { RemoveImageRequest__Output } from './proto/generated/runtime/v1/RemoveImageRequest.js';
import type { RemoveImageResponse } from './proto/generated/runtime/v1/RemoveImageResponse.js';
import { requestError } from './request-error.js';

export async function imageRemove(ctx: CriContext, req: RemoveImageRequest__Output): Promise<RemoveImageResponse> {
  const wanted = req.image?.image;
  if (!wanted) throw invalidArgument('image.image: no image named');
  const found = await findImage(ctx.config.root, wanted).catch(requestError('image.image'));
  if (!found) return {};
  // Gone since it was found (another removal): removed all the same.
  const removed = await removeImage(ctx.config.root, found.image.id, { force: true })
    .catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? { untagged: [] } : Promise.reject(err)));
  const collected = await gc(ctx.config.root);
  ctx.log.info({ id: found.image.id, untagged: removed.untagged, blobs: collected.blobs, snapshots: collected.snapshots }, 'removed image');
  return {};
}
