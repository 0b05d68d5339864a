// ImageStatus: the image a reference or ID names, or no image at all when it is not there (not an error: the
// kubelet asks before every pull). With verbose, info["info"] holds what containerd puts there: the image's chain
// ID and its config (the OCI image config), as JSON.
import { chainIds } from '../image/snapshots.js';
import type { CriContext } from './context.js';
import { invalidArgument } from './grpc-error.js';
import { findImage, toCriImage, type FoundImage } from './image-lookup.js';
import type { ImageStatusRequest__Output } from './proto/generated/runtime/v1/ImageStatusRequest.js';
import type { ImageStatusResponse } from './proto/generated/runtime/v1/ImageStatusResponse.js';
import { requestError } from './request-error.js';

function verboseInfo({ image }: FoundImage): Record<string, string> {
  const diffIds = image.config?.rootfs?.diff_ids ?? [];
  return { info: JSON.stringify({ chainID: chainIds(diffIds).pop() ?? '', imageSpec: image.config }) };
}

export async function imageStatus(ctx: CriContext, req: ImageStatusRequest__Output): Promise<ImageStatusResponse> {
  const wanted = req.image?.image;
  if (!wanted) throw invalidArgument('image.image: no image named');
  const found = await findImage(ctx.config.root, wanted).catch(requestError('image.image'));
  if (!found) return { image: null, info: {} };
  return { image: toCriImage(found), info: req.verbose ? verboseInfo(found) : {} };
}
