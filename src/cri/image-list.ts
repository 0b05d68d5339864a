// ListImages: every image in the store (the same ones `skiff images` lists), once per image ID. A filter naming an
// image narrows the list to that image, found as ImageStatus finds it.
import type { CriContext } from './context.js';
import { findImage, listImages, toCriImage } from './image-lookup.js';
import type { ListImagesRequest__Output } from './proto/generated/runtime/v1/ListImagesRequest.js';
import type { ListImagesResponse } from './proto/generated/runtime/v1/ListImagesResponse.js';
import { requestError } from './request-error.js';

export async function imageList(ctx: CriContext, req: ListImagesRequest__Output): Promise<ListImagesResponse> {
  const wanted = req.filter?.image?.image;
  if (!wanted) return { images: (await listImages(ctx.config.root)).map(toCriImage) };
  const found = await findImage(ctx.config.root, wanted).catch(requestError('filter.image.image'));
  return { images: found ? [toCriImage(found)] : [] };
}
