// Saving an OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json` and `blobs/<alg>/<hex>`,
// then tarred by the caller (an "oci-archive"); the image is named by org.opencontainers.image.ref.name.
import { cpSync, existsSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentStore } from '../content-store.js';
import type { ManifestWithConfig } from './image-set.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

/** Writes the OCI layout of one image into `dir` (blobs hard-linked from the store where possible). */
export function writeOciLayout(root: string, dir: string, name: string, image: ManifestWithConfig): void {
  const content = new ContentStore(root);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const d of [image.target, image.manifest.config, ...image.manifest.layers]) {
    const to = join(dir, 'blobs', 'sha256', d.digest.slice(7));
    if (existsSync(to)) continue;
    try {
      linkSync(content.path(d.digest), to);
    } catch {
      cpSync(content.path(d.digest), to);
    }
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...image.target, annotations: { [REF_NAME]: name } }] }));
}
