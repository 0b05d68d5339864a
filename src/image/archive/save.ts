// skiff save: one image as an oci-archive or a docker-archive, streamed from the content store into a file beside
// the output and renamed into place when whole (output-file.ts).
import { SkiffError } from '../../common/errors.js';
import { ContentStore } from '../content-store.js';
import { findImage } from '../image-summary.js';
import { checkManifest, type ImageManifest } from '../pull.js';
import { formatReference, parseReference } from '../reference.js';
import { dockerArchiveMembers } from './docker-archive-write.js';
import { ociArchiveMembers } from './oci-layout-write.js';
import { writeOutputFile } from './output-file.js';
import { writeTar } from './tar-writer.js';

export const ARCHIVE_FORMATS = ['oci-archive', 'docker-archive'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export async function saveArchive(root: string, image: string, output: string, format: ArchiveFormat, signal?: AbortSignal): Promise<void> {
  if (!ARCHIVE_FORMATS.includes(format)) throw new SkiffError(`--format: "${format}" is not one of ${ARCHIVE_FORMATS.join(', ')}`, 'EINVAL');
  const name = formatReference(parseReference(image));
  const rec = await findImage(root, image);
  const content = new ContentStore(root);
  const manifest = checkManifest(await content.readJson<ImageManifest>(rec.target.digest), `image ${name}`);
  // Everything that can be checked before the output is opened is: a bad image leaves no file at all.
  const members = format === 'oci-archive'
    ? await ociArchiveMembers(content, name, rec.target, manifest, signal)
    : await dockerArchiveMembers(content, name, manifest, signal);
  await writeOutputFile(output, `save -o ${output}`, (fh) => writeTar(fh, members, signal), signal);
}
