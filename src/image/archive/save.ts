// skiff save: one image as an oci-archive or a docker-archive, written beside the output under a temporary name
// and renamed into place when whole.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { SkiffError } from '../../common/errors.js';
import { ContentStore } from '../content-store.js';
import { findImage } from '../image-summary.js';
import { formatReference, parseReference } from '../reference.js';
import { writeDockerArchive } from './docker-archive.js';
import type { ManifestWithConfig } from './image-set.js';
import { writeOciLayout } from './oci-layout.js';

export const ARCHIVE_FORMATS = ['oci-archive', 'docker-archive'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export async function saveArchive(root: string, image: string, output: string, format: ArchiveFormat): Promise<void> {
  if (!ARCHIVE_FORMATS.includes(format)) throw new SkiffError(`--format: "${format}" is not one of ${ARCHIVE_FORMATS.join(', ')}`, 'EINVAL');
  const name = formatReference(parseReference(image));
  const rec = await findImage(root, image);
  const img: ManifestWithConfig = { target: rec.target, manifest: await new ContentStore(root).readJson(rec.target.digest) };
  const dir = mkdtempSync(join(tmpdir(), 'skiff-save-'));
  const tmp = `${output}.tmp-${process.pid}`;
  try {
    if (format === 'oci-archive') writeOciLayout(root, dir, name, img);
    else await writeDockerArchive(root, dir, name, img);
    await tar.c({ cwd: dir, file: tmp, portable: true }, ['.']);
    renameSync(tmp, output);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}
